/**
 * ChannelData framing (RFC 8656 §12.4-12.5): a 4-byte header (channel number, data length)
 * followed by the application data; over TCP/TLS the frame is padded to a multiple of 4 bytes.
 * No allocation here: these run once per relayed packet.
 */

/**
 * Accepted channel numbers: 0x4000-0x7FFF. RFC 8656 §12 narrowed the valid range to
 * 0x4000-0x4FFF, but RFC 5766 allowed up to 0x7FFF and deployed clients (coturn's
 * turnutils_uclient among them) still pick numbers above 0x4FFF, as coturn accepts. Every value
 * keeps the first two bits 01, so demultiplexing from STUN (00) is unaffected.
 */
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x7fff;
const CHANNEL_DATA_HEADER_LENGTH = 4;

export function isValidChannelNumber(channel: number): boolean {
  return channel >= CHANNEL_MIN && channel <= CHANNEL_MAX;
}

/**
 * Length of the ChannelData frame at buf[offset] with `available` bytes there: 4 + data length,
 * plus the padding to 4 when `padded` (TCP/TLS streams). Returns -1 when it is not ChannelData
 * (channel outside 0x4000-0x7FFF), and for UDP (`padded` false) also when the header is
 * incomplete or the data length exceeds available - 4 (trailing bytes, i.e. padding, are allowed).
 * For streams it returns 0 while fewer than 4 bytes are available (read more), and may return
 * more than `available` (the rest of the frame has not arrived yet).
 */
export function channelDataLength(buf: Buffer, offset: number, available: number, padded: boolean): number {
  const avail = Math.min(available, buf.length - offset);
  if (!(offset >= 0)) return -1;
  if (avail < CHANNEL_DATA_HEADER_LENGTH) {
    if (!padded) return -1;
    if (avail >= 1 && (buf[offset] < 0x40 || buf[offset] > 0x7f)) return -1;
    return 0;
  }
  const channel = (buf[offset] << 8) | buf[offset + 1];
  if (!isValidChannelNumber(channel)) return -1;
  const dataLength = (buf[offset + 2] << 8) | buf[offset + 3];
  if (padded) return CHANNEL_DATA_HEADER_LENGTH + ((dataLength + 3) & ~3);
  if (dataLength > avail - CHANNEL_DATA_HEADER_LENGTH) return -1;
  return CHANNEL_DATA_HEADER_LENGTH + dataLength;
}

/** Writes the 4-byte ChannelData header at target[offset]; returns 4. */
export function writeChannelDataHeader(target: Buffer, offset: number, channel: number, length: number): number {
  if (!(offset >= 0) || offset + CHANNEL_DATA_HEADER_LENGTH > target.length) {
    throw new RangeError('writeChannelDataHeader: out of range');
  }
  target[offset] = (channel >>> 8) & 0xff;
  target[offset + 1] = channel & 0xff;
  target[offset + 2] = (length >>> 8) & 0xff;
  target[offset + 3] = length & 0xff;
  return CHANNEL_DATA_HEADER_LENGTH;
}
