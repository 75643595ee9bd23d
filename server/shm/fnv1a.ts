/** FNV-1a over bytes: where an address's entry starts in the shared tables' open addressing (fast, and good enough spread for that). */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}
