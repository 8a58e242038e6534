/**
 * A session's first refused update refuses every update of the session checked after it.
 *
 * A loaded document checks an update as it arrives: a refusal closes the connection before
 * the next message is read, so nothing the peer sent after it is taken. Updates that wait
 * for the document's load (a relay hydrating a document it served cold, cold-doc.ts, or
 * loading one) are checked together in one turn once it is loaded, before the refusal of
 * the first can close the connection: without this, those behind it would be stored.
 */
const refusals = new WeakMap<object, unknown>()

/**
 * Runs `check` (it throws to refuse the update) for an update from `session` (undefined:
 * a local write), unless an earlier update of the session was refused: then throws that
 * refusal again, so the connection closes as it would have, with the same code.
 */
export const checkUnlessRefused = <T>(session: object | undefined, check: () => T): T => {
  if (session === undefined) return check()
  if (refusals.has(session)) throw refusals.get(session)
  try {
    return check()
  } catch (err) {
    refusals.set(session, err)
    throw err
  }
}
