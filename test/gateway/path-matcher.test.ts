import { describe, it, expect } from '@jest/globals';
import { compilePath } from '../../lib/gateway/path-matcher.js';

describe('gateway paths', () => {
  it('a static path matches itself, with or without one trailing slash', () => {
    const m = compilePath('/chat/');
    expect(m).toMatchObject({ path: '/chat', shape: '/chat', isStatic: true });
    expect(m.match('/chat')).toEqual({});
    expect(m.match('/chat/')).toEqual({});
    expect(m.match('/chat/x')).toBeNull();
    expect(m.match('/cha')).toBeNull();
  });

  it('the root path', () => {
    expect(compilePath('/').match('/')).toEqual({});
    expect(compilePath('/').match('/x')).toBeNull();
  });

  it('parameters match one non-empty segment each and are URL-decoded', () => {
    const m = compilePath('/rooms/:room/users/:user');
    expect(m).toMatchObject({ shape: '/rooms/:/users/:', paramNames: ['room', 'user'], isStatic: false });
    expect(m.match('/rooms/a%20b/users/42')).toEqual({ room: 'a b', user: '42' });
    expect(m.match('/rooms//users/42')).toBeNull();
    expect(m.match('/rooms/a/people/42')).toBeNull();
    expect(m.match('/rooms/%E0%A4%A/users/1')).toBeNull();
  });

  it('paths differing only in parameter names have the same shape', () => {
    expect(compilePath('/a/:x').shape).toBe(compilePath('/a/:y').shape);
  });

  it('matched params are frozen', () => {
    expect(Object.isFrozen(compilePath('/a/:x').match('/a/1'))).toBe(true);
  });
});
