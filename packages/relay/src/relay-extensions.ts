import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { isReservedDocName, type Peer, type Replica, type ReplicaObserver } from '@converge/core'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import * as Y from 'yjs'
import { docToJson } from './doc-json.js'
import { type SettleOptions, SettleScheduler } from './document-settled.js'
import { type DocumentSettledPayload, type Extension, httpStatusOf } from './extensions.js'
import { HookRunner } from './hooks-runner.js'
import { RelayAuth, upgradePayloadOf } from './relay-auth.js'
import { seedDocument } from './seed-doc.js'
import { DEFAULT_MAX_UPDATE_BYTES_PER_TOKEN, TokenQuotas } from './token-quota.js'

/** The observer calls that reach the app's hooks and webhooks. */
type AppObserver = Required<Pick<ReplicaObserver, 'changed' | 'awareness' | 'docDeleted' | 'docUnloaded'>>

export interface RelayExtensionsOptions extends SettleOptions {
  extensions?: Extension[]
  authSecret?: string
  /** Bytes of updates all client connections of one token may write (see token-quota.ts). */
  maxUpdateBytesPerToken?: number
}

/**
 * Wires a relay's extensions into it: the auth decision, the replica's observer and seed,
 * the upgrade gate, peer lifecycle, settles, listen and shutdown. The relay calls it at
 * those moments; it knows the replica only through the narrow calls below.
 */
export class RelayExtensions {
  readonly hooks: HookRunner
  readonly auth: RelayAuth
  private readonly settles: SettleScheduler
  private readonly settledListeners = new Set<(p: DocumentSettledPayload) => void | Promise<void>>()
  private readonly documentListeners = new Set<(doc: string, what: 'changed' | 'deleted') => void>()
  private readonly log: Logger
  private replica: Replica | undefined

  constructor(options: RelayExtensionsOptions, registry: Registry, log: Logger) {
    this.log = log
    this.hooks = new HookRunner(options.extensions ?? [], registry, log)
    this.auth = new RelayAuth(
      options.authSecret,
      this.hooks,
      new TokenQuotas(options.maxUpdateBytesPerToken ?? DEFAULT_MAX_UPDATE_BYTES_PER_TOKEN),
    )
    this.settles = new SettleScheduler(options, (s) => this.settle(s.doc, s.changes, s.users))
  }

  attach(replica: Replica): void {
    this.replica = replica
    replica.on('stateless', (doc, payload, from) => {
      // Between relays, a stateless message is some app's; only clients' messages reach the hook.
      if (from.relay) return
      void this.hooks.notify('onStateless', {
        doc,
        payload,
        context: from.context,
        reply: (p) => from.reply(p),
        broadcast: (p) => replica.sendStateless(doc, p),
      })
    })
  }

  /** The seed of new documents, when an extension has onLoadDocument. */
  get seedDocument(): ((name: string) => Promise<Uint8Array | undefined>) | undefined {
    if (!this.hooks.has('onLoadDocument')) return undefined
    // The engine's own documents (.converge/…, e.g. the tombstones) are not the app's to seed.
    return async (name) => (isReservedDocName(name) ? undefined : seedDocument(this.hooks, name))
  }

  /** `base` plus the hooks that follow the replica: changes, presence, unloads. */
  observer(base: ReplicaObserver): ReplicaObserver {
    const hooked = this.appObserver(base)
    // The engine's own documents (.converge/…) reach metrics, never the app's hooks or webhooks.
    const appDoc =
      <A extends unknown[]>(own: ((doc: string, ...a: A) => void) | undefined, app: (doc: string, ...a: A) => void) =>
      (doc: string, ...a: A) =>
        isReservedDocName(doc) ? own?.(doc, ...a) : app(doc, ...a)
    return {
      ...base,
      changed: appDoc(base.changed, hooked.changed),
      awareness: appDoc(base.awareness, hooked.awareness),
      docDeleted: appDoc(base.docDeleted, hooked.docDeleted),
      docUnloaded: appDoc(base.docUnloaded, hooked.docUnloaded),
    }
  }

  private appObserver(base: ReplicaObserver): AppObserver {
    return {
      changed: (doc, update, context) => {
        base.changed?.(doc, update, context)
        for (const listener of this.documentListeners) listener(doc, 'changed')
        void this.hooks.notify('onChange', { doc, update, context })
        if (this.wantsSettles) this.settles.changed(doc, context?.user)
      },
      awareness: (doc, clients, context) => {
        base.awareness?.(doc, clients, context)
        if (!this.hooks.has('onAwareness')) return
        let states = new Map<number, unknown>()
        try {
          states = new Map(this.replica?.presence(doc).states())
        } catch {
          // the document is unloading
        }
        void this.hooks.notify('onAwareness', { doc, ...clients, states, context })
      },
      docDeleted: (doc) => {
        base.docDeleted?.(doc)
        for (const listener of this.documentListeners) listener(doc, 'deleted')
      },
      docUnloaded: (doc, built) => {
        base.docUnloaded?.(doc, built)
        void this.hooks.notify('onUnloadDocument', { doc })
      },
    }
  }

  /** Called after every durable change and every deletion (webhooks). Must not throw. */
  onDocument(listener: (doc: string, what: 'changed' | 'deleted') => void): void {
    this.documentListeners.add(listener)
  }

  /** Called with every settle (webhooks), besides onDocumentSettled. */
  onSettled(listener: (p: DocumentSettledPayload) => void | Promise<void>): void {
    this.settledListeners.add(listener)
  }

  private get wantsSettles(): boolean {
    return this.settledListeners.size > 0 || this.hooks.has('onDocumentSettled')
  }

  private async settle(doc: string, changes: number, users: string[]): Promise<void> {
    const replica = this.replica
    if (replica === undefined) return
    let payload: DocumentSettledPayload
    try {
      const state = await replica.encodeState(doc)
      const ydoc = new Y.Doc()
      Y.applyUpdate(ydoc, state)
      payload = { doc, state, stateVector: Y.encodeStateVector(ydoc), json: docToJson(ydoc), changes, users }
      ydoc.destroy()
    } catch (err) {
      this.log.warn({ err, doc }, 'could not read a settled document')
      return
    }
    await Promise.all([
      this.hooks.notify('onDocumentSettled', payload),
      ...[...this.settledListeners].map(async (listener) => {
        try {
          await listener(payload)
        } catch (err) {
          this.log.error({ err, doc }, 'settle listener failed')
        }
      }),
    ])
  }

  /** Runs onUpgrade, then `next`; a refusal answers with its HTTP status. */
  upgrade(
    request: IncomingMessage,
    socket: Duplex,
    next: () => void,
    refused: (status: number, reason: string) => void,
  ): void {
    if (!this.hooks.has('onUpgrade')) {
      next()
      return
    }
    socket.on('error', () => socket.destroy())
    this.hooks.gate('onUpgrade', upgradePayloadOf(request), 'CONVERGE_INTERNAL').then(
      () => {
        if (!socket.destroyed) next()
      },
      (err) => {
        const status = httpStatusOf(err)
        refused(status, (err as Error).message)
        if (socket.writable) {
          socket.write(`HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
        }
        socket.destroy()
      },
    )
  }

  /** Runs onDisconnect when an admitted peer closes. */
  watchPeer(peer: Peer): void {
    if (!this.hooks.has('onDisconnect')) return
    let opened = peer.status === 'open'
    peer.on('status', (status) => {
      if (status === 'open') opened = true
      if (status !== 'closed' || !opened) return
      const close = peer.lastClose ?? { code: 1006, reason: '' }
      void this.hooks.notify('onDisconnect', {
        peerId: peer.remoteId,
        role: peer.remoteRole,
        code: close.code,
        reason: close.reason,
        context: peer.context,
      })
    })
  }

  listening(url: string, port: number): Promise<void> {
    return this.hooks.notify('onListen', { url, port })
  }

  /** Settles what is pending and lets running hooks finish (before the replica goes). */
  async drain(): Promise<void> {
    await this.settles.flush()
    await this.hooks.idle()
  }

  async destroyed(): Promise<void> {
    await this.hooks.notify('onDestroy', {})
  }
}

const statusText = (status: number) =>
  ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' })[status] ?? 'Service Unavailable'
