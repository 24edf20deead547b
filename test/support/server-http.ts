// For tests that run the county server as a real process: JSON calls over fetch and a demo login.
import { expect } from 'chai';
import { DEMO_PASSWORD } from '../../seeds/demo-county.js';

export async function call(url: string, method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Logs a demo user in and returns the access token. */
export async function login(url: string, username: string): Promise<string> {
  const res = await call(url, 'POST', '/api/v1/auth/login', { username, password: DEMO_PASSWORD });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body.accessToken as string;
}
