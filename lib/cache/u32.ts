/** `n` as four big-endian bytes: the length prefix of the keys' hashed parts. */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
