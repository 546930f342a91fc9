import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

const ROOT = new URL('../../', import.meta.url);
const DOCS = ['README.md', 'SECURITY.md', 'docs/errors.md'];

interface Citation {
  doc: string;
  path: string;
  describeName: string | null;
}

/** `test/…` in backticks, optionally followed by a "describe name" in double quotes: how our docs cite a test. */
function citations(doc: string): Citation[] {
  const text = readFileSync(new URL(doc, ROOT), 'utf8');
  return [...text.matchAll(/`(test\/[^`\s]+)`(?:\s*›?\s*"([^"]+)")?/g)].map((m) => ({ doc, path: m[1]!, describeName: m[2] ?? null }));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `source` opens a describe block titled exactly `name` (plain or .each, any quote). */
function declaresDescribe(source: string, name: string): boolean {
  return new RegExp(`describe(?:\\.each\\([^)]*\\))?\\(\\s*(['"\`])${escapeRegExp(name)}\\1`).test(source);
}

describe('the docs cite real tests', () => {
  const all = DOCS.flatMap(citations);

  it('cite at least one test file from README.md and SECURITY.md', () => {
    expect(all.filter((c) => c.doc === 'README.md').length).toBeGreaterThan(0);
    expect(all.filter((c) => c.doc === 'SECURITY.md').length).toBeGreaterThan(0);
  });

  it.each(all.map((c) => [c.doc, c.path, c.describeName ?? '(file)'] as const))('%s cites %s %s, which exists', (_doc, path, name) => {
    const url = new URL(path, ROOT);
    expect([path, existsSync(url)]).toEqual([path, true]);
    if (name === '(file)') return;
    expect([path, statSync(url).isFile()]).toEqual([path, true]);
    expect([path, name, declaresDescribe(readFileSync(url, 'utf8'), name)]).toEqual([path, name, true]);
  });
});

describe('the citation check itself', () => {
  it('finds describe blocks by their exact title, and nothing else', () => {
    const source = "describe('limit maxMessageSize', () => {});\ndescribe.each([1])(`RFC 6455 §5.5 control frames`, () => {});";
    expect(declaresDescribe(source, 'limit maxMessageSize')).toBe(true);
    expect(declaresDescribe(source, 'RFC 6455 §5.5 control frames')).toBe(true);
    expect(declaresDescribe(source, 'limit maxMessage')).toBe(false);
    expect(declaresDescribe("it('limit maxMessageSize', () => {})", 'limit maxMessageSize')).toBe(false);
  });
});
