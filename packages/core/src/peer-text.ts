/**
 * Text a peer chose (its peer id, the code and message of an error frame) ends up in logs:
 * ten 1 MiB error frames grew a relay's log by 6.7 MiB. It is cut to a bounded length
 * before anything keeps it, with its control characters (log forging) replaced.
 */
export const peerText = (text: string, maxLength: number): string => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
  const clean = text.slice(0, maxLength + 1).replace(/[\u0000-\u001f\u007f]/g, '?')
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}…` : clean
}
