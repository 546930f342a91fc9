// The generator's view of server frames: only header fields and lengths, enough to count whole
// echoed messages. Payloads of data frames are skipped, never copied, except the first echo on
// each connection, which is compared byte for byte with what was sent (a fast wrong echo must
// not pass for a fast echo).
import { Op } from './frame-bytes.js';

const FIN = 0x80;
const OPCODE = 0x0f;
const MASKED = 0x80;
const LENGTH7 = 0x7f;
const MAX_HEADER = 14;

function headerLength(byte1) {
  const len7 = byte1 & LENGTH7;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (byte1 & MASKED ? 4 : 0);
}

export class FrameCounter {
  /**
   * @param {(opcode: number, payload: Buffer) => void} onControl  close / ping / pong frames
   * @param {{ opcode: number, payload: Buffer } | null} expected  what every echo must look like
   * @param {(problem: string) => void} onMismatch
   */
  constructor(onControl, expected = null, onMismatch = () => {}) {
    this.onControl = onControl;
    this.expected = expected;
    this.onMismatch = onMismatch;
    this.verifyNext = expected !== null;
    this.capture = null;
    this.header = Buffer.allocUnsafe(MAX_HEADER);
    this.headerHave = 0;
    this.headerNeed = 2;
    this.left = 0;
    this.fin = false;
    this.control = null;
    this.controlHave = 0;
    this.controlOpcode = 0;
    /** server frames that had the mask bit set: a protocol violation worth reporting */
    this.maskedFrames = 0;
  }

  /** Consumes a chunk; returns how many data messages were completed in it. */
  push(chunk) {
    const end = chunk.length;
    let i = 0;
    let completed = 0;
    while (i < end) {
      if (this.left > 0) {
        const take = this.left < end - i ? this.left : end - i;
        if (this.control !== null) {
          chunk.copy(this.control, this.controlHave, i, i + take);
          this.controlHave += take;
        } else if (this.capture !== null) {
          chunk.copy(this.capture, this.controlHave, i, i + take);
          this.controlHave += take;
        }
        i += take;
        this.left -= take;
        if (this.left === 0) completed += this.endFrame();
        continue;
      }
      // Fast path: the whole header is inside this chunk.
      if (this.headerHave === 0 && end - i >= 2) {
        const need = headerLength(chunk[i + 1]);
        if (end - i >= need) {
          completed += this.startFrame(chunk, i);
          i += need;
          continue;
        }
      }
      this.header[this.headerHave++] = chunk[i++];
      if (this.headerHave === 2) this.headerNeed = headerLength(this.header[1]);
      if (this.headerHave === this.headerNeed) {
        this.headerHave = 0;
        this.headerNeed = 2;
        completed += this.startFrame(this.header, 0);
      }
    }
    return completed;
  }

  startFrame(buf, at) {
    const b0 = buf[at];
    const b1 = buf[at + 1];
    const len7 = b1 & LENGTH7;
    let length = len7;
    if (len7 === 126) length = buf.readUInt16BE(at + 2);
    else if (len7 === 127) length = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
    if (b1 & MASKED) this.maskedFrames++;
    this.fin = (b0 & FIN) !== 0;
    const opcode = b0 & OPCODE;
    if (opcode >= Op.Close) {
      this.controlOpcode = opcode;
      this.control = Buffer.allocUnsafe(length);
      this.controlHave = 0;
    } else if (this.expected !== null) {
      this.checkShape(opcode, length);
    }
    this.left = length;
    return length === 0 ? this.endFrame() : 0;
  }

  checkShape(opcode, length) {
    const { opcode: wantOpcode, payload } = this.expected;
    if (opcode !== wantOpcode || length !== payload.length || !this.fin) {
      this.onMismatch(`echo frame opcode ${opcode} fin ${this.fin} length ${length}, sent opcode ${wantOpcode} length ${payload.length}`);
      return;
    }
    if (this.verifyNext) {
      this.verifyNext = false;
      this.capture = Buffer.allocUnsafe(length);
      this.controlHave = 0;
    }
  }

  endFrame() {
    if (this.control !== null) {
      const payload = this.control;
      this.control = null;
      this.onControl(this.controlOpcode, payload);
      return 0;
    }
    if (this.capture !== null) {
      if (!this.capture.equals(this.expected.payload)) this.onMismatch('echoed payload differs from the one sent');
      this.capture = null;
    }
    // Continuations carry no opcode, so a message ends at any FIN data frame.
    return this.fin ? 1 : 0;
  }
}
