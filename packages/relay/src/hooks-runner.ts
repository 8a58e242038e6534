import { ConvergeError } from '@converge/core'
import type { Logger } from 'pino'
import { Counter, type Registry } from 'prom-client'
import type { AuthenticatePayload, AuthenticateResult, Extension, HookContext, HookName } from './extensions.js'

type PayloadOf<H extends HookName> = Parameters<NonNullable<Extension[H]>>[0]

/**
 * Runs the hooks of a relay's extensions, in order. Gates (hooks that may refuse) turn
 * any exception into a coded refusal; notifications swallow theirs. Either way an
 * exception that is not a deliberate refusal is logged and counted by hook name.
 */
export class HookRunner {
  private readonly extensions: Extension[]
  private readonly log: Logger
  private readonly errors: Counter<'hook'>
  private readonly vetoes: Counter<'hook'>
  private readonly running = new Set<Promise<void>>()

  constructor(extensions: Extension[], registry: Registry, log: Logger) {
    this.extensions = extensions
    this.log = log
    this.errors = new Counter({
      name: 'converge_hook_errors_total',
      help: 'Exceptions thrown by extension hooks (not refusals), by hook',
      labelNames: ['hook'],
      registers: [registry],
    })
    this.vetoes = new Counter({
      name: 'converge_hook_vetoes_total',
      help: 'Refusals by extension hooks (a HookError or ConvergeError thrown), by hook',
      labelNames: ['hook'],
      registers: [registry],
    })
  }

  has(hook: HookName): boolean {
    return this.extensions.some((e) => e[hook] !== undefined)
  }

  /**
   * Runs a hook that may refuse, extension by extension; rejects with a ConvergeError at
   * the first that throws (an uncoded exception refuses with `fallback`).
   */
  async gate<H extends HookName>(
    hook: H,
    payload: PayloadOf<H>,
    fallback: ConvergeError['code'] = 'CONVERGE_INTERNAL',
  ): Promise<unknown[]> {
    const results: unknown[] = []
    for (const ext of this.extensions) {
      const fn = ext[hook] as ((p: PayloadOf<H>) => unknown) | undefined
      if (fn === undefined) continue
      try {
        results.push(await fn.call(ext, payload))
      } catch (err) {
        throw this.refusal(hook, ext, err, fallback)
      }
    }
    return results
  }

  /** Runs onAuthenticate in order, each seeing what the earlier ones returned; resolves with the merge. */
  async authenticate(payload: Omit<AuthenticatePayload, 'context'>): Promise<AuthenticateResult> {
    let context: AuthenticateResult = {}
    for (const ext of this.extensions) {
      if (ext.onAuthenticate === undefined) continue
      try {
        const result = await ext.onAuthenticate.call(ext, { ...payload, context: context as HookContext })
        if (result !== undefined && result !== null) context = { ...context, ...result }
      } catch (err) {
        throw this.refusal('onAuthenticate', ext, err, 'CONVERGE_AUTH_DENIED')
      }
    }
    return context
  }

  /** Runs a hook that only observes; never rejects. The returned promise is for tests and shutdown. */
  notify<H extends HookName>(hook: H, payload: PayloadOf<H>): Promise<void> {
    if (!this.has(hook)) return Promise.resolve()
    const run = (async () => {
      for (const ext of this.extensions) {
        const fn = ext[hook] as ((p: PayloadOf<H>) => unknown) | undefined
        if (fn === undefined) continue
        try {
          await fn.call(ext, payload)
        } catch (err) {
          this.errors.inc({ hook })
          this.log.error({ err, hook, extension: ext.name }, 'extension hook failed')
        }
      }
    })()
    this.running.add(run)
    run.finally(() => this.running.delete(run))
    return run
  }

  /** Resolves when every notification started so far has finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }

  private refusal(hook: HookName, ext: Extension, err: unknown, fallback: ConvergeError['code']): ConvergeError {
    if (err instanceof ConvergeError) {
      this.vetoes.inc({ hook })
      this.log.info({ hook, extension: ext.name, code: err.code, msg: err.message }, 'extension hook refused')
      return err
    }
    this.errors.inc({ hook })
    this.log.error({ err, hook, extension: ext.name }, 'extension hook failed; refusing')
    return new ConvergeError(fallback, `${hook} failed`, { cause: err })
  }
}
