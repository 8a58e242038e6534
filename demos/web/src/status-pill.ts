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
 * `unsaved` counts changes as a person does (see UnsavedChanges), not Yjs transactions.
 */
export const describeStatus = (status: DocStatus, unsaved: number, link: LinkState): PillView => {
  const kept = link.localWrites > 0 ? 'being written to this device' : 'kept on this device'
  if (status.connection === 'connecting' && link.browserOnline && link.firstAttempt) {
    return { state: 'connecting', label: 'Connecting…', detail: 'Reaching the relay' }
  }
  if (status.connection !== 'online') {
    return {
      state: 'offline',
      label: 'Offline',
      detail:
        unsaved > 0
          ? `${changes(unsaved)} not on the relay yet, ${kept}`
          : 'No connection to the relay; changes are kept on this device',
    }
  }
  if (!status.synced) return { state: 'syncing', label: 'Syncing…', detail: 'Exchanging changes with the relay' }
  if (!status.saved) {
    const what = unsaved > 0 ? `${changes(unsaved)} on the way to the relay` : 'Waiting for the relay to confirm'
    return { state: 'saving', label: 'Saving…', detail: what }
  }
  return { state: 'saved', label: 'Saved', detail: 'Every change is stored on the relay' }
}

/** Renders a status into the pill element: a dot, a label, and how many changes the relay lacks. */
export const renderStatus = (element: HTMLElement, status: DocStatus, unsaved: number, link: LinkState) => {
  const view = describeStatus(status, unsaved, link)
  const shown = view.state === 'saved' ? 0 : unsaved
  element.dataset.state = view.state
  element.dataset.connection = status.connection
  element.dataset.unsaved = String(shown)
  element.title = view.detail
  const label = element.querySelector('.status-label') as HTMLElement
  const count = element.querySelector('.status-count') as HTMLElement
  label.textContent = view.label
  ;(count.querySelector('.status-count-n') as HTMLElement).textContent = String(shown)
  // "not synced", not "unsaved": the changes are saved on this device, the relay lacks them.
  ;(count.querySelector('.status-count-unit') as HTMLElement).textContent =
    shown === 1 ? ' change not synced' : ' changes not synced'
  count.hidden = shown === 0
  const detail = document.querySelector('.status-detail')
  if (detail !== null) detail.textContent = view.detail
}
