/** RFC 7230 §3.2.6 tchar, indexed by char code; anything at or above 0x80 is not one. */
const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1;
  for (const ch of "!#$%&'*+-.^_`|~") table[ch.charCodeAt(0)] = 1;
  return table;
})();

/** @internal */
export function isTokenChar(code: number): boolean {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, TOKEN_CHARS[code] is undefined from 128 up; the bound only keeps the read in range
  return code < 128 && TOKEN_CHARS[code] === 1;
}

/** @internal An RFC 7230 token: one or more tchars. */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (!isTokenChar(value.charCodeAt(i))) return false;
  }
  return true;
}
