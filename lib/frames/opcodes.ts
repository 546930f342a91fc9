/** RFC 6455 §5.2 opcodes. Every opcode the engine speaks, by name. */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** §5.5: control frames have the opcode's most significant bit set. */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

export function isKnownOpcode(opcode: number): boolean {
  return (
    opcode === Opcode.Continuation ||
    opcode === Opcode.Text ||
    opcode === Opcode.Binary ||
    opcode === Opcode.Close ||
    opcode === Opcode.Ping ||
    opcode === Opcode.Pong
  );
}
