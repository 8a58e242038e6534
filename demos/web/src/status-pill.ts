import type { DocStatus } from '@converge/core'

export type PillState = 'offline' | 'connecting' | 'syncing' | 'saving' | 'saved'

export interface PillView {
  state: PillState
  label: string
  detail: string
}

const changes = (n: number) => `${n} change${n === 1 ? '' : 's'}`

/** What the app knows about its relay connection beyond the replica's status. */
export interface LinkState {
  /** The browser says it is online (`navigator.onLine`); it can be wrong only in that direction. */
  browserOnline: boolean
  /** A first connection attempt is still under way (nothing failed yet, nothing opened yet). */
  firstAttempt: boolean
  /** Appends not yet written to IndexedDB. */
  localWrites: number
}

/**
 * What the header says about the open document. "Connecting" is only the first attempt;
 * after that, without a connection, it is "Offline" (the replica keeps retrying quietly),
 * whether the browser knows it is offline or the relay simply cannot be reached.
 */
export const describeStatus = (status: DocStatus, link: LinkState): PillView => {
  const kept = link.localWrites > 0 ? 'writing to this device…' : 'kept on this device'
  if (status.connection === 'connecting' && link.browserOnline && link.firstAttempt) {
    return { state: 'connecting', label: 'Connecting…', detail: 'Reaching the relay' }
  }
  if (status.connection !== 'online') {
    return {
      state: 'offline',
      label: 'Offline',
      detail:
        status.unsaved > 0
          ? `${changes(status.unsaved)} not yet on the server, ${kept}`
          : 'No connection to the relay; changes are kept on this device',
    }
  }
  if (!status.synced) return { state: 'syncing', label: 'Syncing…', detail: 'Exchanging changes with the relay' }
  if (!status.saved) return { state: 'saving', label: 'Saving…', detail: `${changes(status.unsaved)} on the way` }
  return { state: 'saved', label: 'Saved', detail: 'Every change is stored on the relay' }
}

/** Renders a status into the pill element: a dot, a label, and an unsaved counter. */
export const renderStatus = (element: HTMLElement, status: DocStatus, link: LinkState) => {
  const view = describeStatus(status, link)
  element.dataset.state = view.state
  element.dataset.connection = status.connection
  element.dataset.unsaved = String(status.unsaved)
  element.title = view.detail
  const label = element.querySelector('.status-label') as HTMLElement
  const count = element.querySelector('.status-count') as HTMLElement
  label.textContent = view.label
  count.textContent = status.unsaved > 0 ? `${status.unsaved} unsaved` : ''
  count.hidden = status.unsaved === 0
  const detail = document.querySelector('.status-detail')
  if (detail !== null) detail.textContent = view.detail
}
