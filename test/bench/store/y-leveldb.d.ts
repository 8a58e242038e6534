// y-leveldb 0.2.0 ships types, but its package.json "exports" does not point at them.
declare module 'y-leveldb' {
  import type * as Y from 'yjs'

  export class LeveldbPersistence {
    constructor(location: string, options?: { levelOptions?: object })
    storeUpdate(docName: string, update: Uint8Array): Promise<number>
    flushDocument(docName: string): Promise<void>
    getYDoc(docName: string): Promise<Y.Doc>
    getMeta(docName: string, metaKey: string): Promise<unknown>
    destroy(): Promise<void>
  }
}
