import * as Y from 'yjs'

/**
 * A JSON view of every root type of a document that was decoded without knowing its
 * schema: a root with map entries is a map, one holding text is text, others are arrays.
 */
export const docToJson = (doc: Y.Doc): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const name of doc.share.keys()) {
    const type = doc.share.get(name) as Y.AbstractType<unknown>
    if (type._map.size > 0) {
      out[name] = doc.getMap(name).toJSON()
    } else if (type._start !== null && holdsText(type)) {
      out[name] = doc.getText(name).toString()
    } else if (type._start !== null) {
      out[name] = doc.getArray(name).toJSON()
    }
  }
  return out
}

const holdsText = (type: Y.AbstractType<unknown>): boolean => {
  for (let item = type._start; item !== null; item = item.right) {
    if (item.deleted) continue
    return item.content instanceof Y.ContentString || item.content instanceof Y.ContentFormat
  }
  return false
}
