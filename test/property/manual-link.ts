import type { Transport, TransportHandler, TransportState } from '@converge/core'

class ManualEnd implements Transport {
  state: TransportState = 'open'
  readonly description: string
  handler: TransportHandler | undefined
  readonly inbox: Uint8Array[] = []
  private readonly link: ManualLink

  constructor(link: ManualLink, description: string) {
    this.link = link
    this.description = description
  }

  attach(handler: TransportHandler): void {
    this.handler = handler
    handler.onOpen()
  }

  send(data: Uint8Array): void {
    if (this.state !== 'open') return
    this.link.other(this).inbox.push(data.slice())
  }

  close(code = 1000, reason = ''): void {
    this.link.cut(code, reason)
  }
}

/**
 * A connection whose two directions the test moves by hand, frame by frame: for a
 * regression that needs one exact interleaving, where MemoryNetwork picks at random.
 */
export class ManualLink {
  readonly a: ManualEnd
  readonly b: ManualEnd

  constructor() {
    this.a = new ManualEnd(this, 'manual:a')
    this.b = new ManualEnd(this, 'manual:b')
  }

  other(end: ManualEnd): ManualEnd {
    return end === this.a ? this.b : this.a
  }

  /** Delivers up to `n` frames waiting for `end`, oldest first; returns how many. */
  deliverTo(end: ManualEnd, n = Number.POSITIVE_INFINITY): number {
    let done = 0
    while (done < n && end.inbox.length > 0 && end.state === 'open') {
      end.handler?.onMessage(end.inbox.shift() as Uint8Array)
      done++
    }
    return done
  }

  /** Closes both ends; frames not delivered are lost. */
  cut(code = 1006, reason = 'cut'): void {
    for (const end of [this.a, this.b]) {
      end.inbox.length = 0
      if (end.state === 'closed') continue
      end.state = 'closed'
      end.handler?.onClose(code, reason)
    }
  }
}
