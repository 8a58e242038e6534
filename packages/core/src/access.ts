/** What a connected peer may do, decided when it is accepted (from its token). */
export interface Access {
  /** May subscribe to the document and receive its content. */
  canRead(doc: string): boolean
  /** May change the document. A peer that may not never changes it: its updates are dropped. */
  canWrite(doc: string): boolean
}

export const fullAccess: Access = { canRead: () => true, canWrite: () => true }
export const readOnlyAccess: Access = { canRead: () => true, canWrite: () => false }
