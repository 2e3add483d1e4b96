/**
 * Who this device is: the token, user and device ids, kept in storage so a restart can resume
 * them. Logging in, signing up, resuming and revoking live here; what belongs to the session
 * (the log position, the outbox) is loaded and cleared by the client around it.
 */
import { ChatError } from '@parley/protocol';
import type { AuthResult, User } from '@parley/protocol';
import type { LoginInput, ParleyApi, SignupInput } from './api.js';
import { KeyWriter } from './storage.js';
import type { ClientStorage } from './storage.js';

export interface Session {
  token: string;
  userId: string;
  deviceId: string;
  user?: User;
}

const KEY_SESSION = 'session';

export class SessionKeeper {
  readonly #api: ParleyApi;
  readonly #storage: ClientStorage;
  readonly #writer: KeyWriter;
  readonly #deviceName: string | undefined;
  #session: Session | undefined;

  constructor(api: ParleyApi, storage: ClientStorage, deviceName: string | undefined, onError: (e: unknown) => void) {
    this.#api = api;
    this.#storage = storage;
    this.#deviceName = deviceName;
    this.#writer = new KeyWriter(storage, KEY_SESSION, onError);
  }

  /** A copy of the current session, if any. */
  get current(): Session | undefined {
    return this.#session && { ...this.#session };
  }

  get token(): string | undefined {
    return this.#session?.token;
  }

  get userId(): string | undefined {
    return this.#session?.userId;
  }

  /** Creates an account and a device for it; the caller then uses the session. */
  async signup(input: SignupInput): Promise<{ result: AuthResult; session: Session }> {
    const result = await this.#api.signup({ deviceName: this.#deviceName, ...input });
    return { result, session: fromAuth(result) };
  }

  /** Logs in as a new device of an existing account; the caller then uses the session. */
  async login(input: LoginInput): Promise<{ result: AuthResult; session: Session }> {
    const result = await this.#api.login({ deviceName: this.#deviceName, ...input });
    return { result, session: fromAuth(result) };
  }

  /** The session saved by a previous run, if there is a usable one. */
  async stored(): Promise<Session | undefined> {
    const raw = await this.#storage.get(KEY_SESSION);
    if (!raw) return undefined;
    let session: Session;
    try {
      session = JSON.parse(raw) as Session;
    } catch {
      return undefined;
    }
    if (typeof session.token !== 'string' || typeof session.userId !== 'string') return undefined;
    return session;
  }

  /** Makes `session` current: requests carry its token, and it is saved. */
  use(session: Session): void {
    this.#session = { ...session };
    this.#api.token = session.token;
    this.#writer.set(JSON.stringify(this.#session));
  }

  /**
   * Revokes this device's token on the server. A token the server already refuses counts as
   * revoked; any other failure is returned (the session is forgotten here all the same).
   */
  async revoke(): Promise<unknown> {
    if (!this.#session) return undefined;
    try {
      await this.#api.logout();
      return undefined;
    } catch (error) {
      return error instanceof ChatError && error.code === 'unauthorized' ? undefined : error;
    }
  }

  /** Deletes the saved session (written at the next flush). */
  erase(): void {
    this.#writer.set(undefined);
  }

  /** No session from now on. */
  forget(): void {
    this.#session = undefined;
    this.#api.token = undefined;
  }

  async flush(): Promise<void> {
    await this.#writer.flush();
  }
}

function fromAuth(result: AuthResult): Session {
  return { token: result.token, userId: result.user.id, deviceId: result.deviceId, user: result.user };
}
