#!/usr/bin/env node
/**
 * parley-chat: a terminal client on the SDK, for operators trying a deployment.
 *
 *   npm run chat -- [--url http://127.0.0.1:8080] [--user NAME --password PW [--signup]] [--data DIR]
 *
 * The session, sync position and unsent messages live under --data (default ~/.parley/<host>),
 * so a restart resumes where it left off. Type /help inside.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ChatError } from '@parley/protocol';
import type { Channel, ChannelInfo, Message, User } from '@parley/protocol';
import { FileStorage, ParleyClient } from './node.js';
import { applyReaction, insertMessage, replaceMessage } from './messages.js';

const HELP = `Commands:
  /channels                 list your channels (alias /ls)
  /open <n|name>            open a channel from the list and show recent history
  /history [n]              show n older messages of the open channel (default 20)
  /dm <username>            open a direct message with a user
  /group <name> <u1,u2,..>  create a group with these usernames
  /invite <username>        add a user to the open group
  /leave                    leave the open group
  /mute, /unmute            no push notifications from the open conversation (mentions still come)
  /who                      members of the open channel and their presence
  /search <words>           search your messages (any language; matches are marked [like this])
  /mentions                 messages that mention you
  /friends                  your friends and their presence
  /friend <username>        send a friend request
  /requests                 pending friend requests; /accept <n> accepts one
  /me [display name]        show (or set) your profile
  /devices                  your signed-in devices; /signout <n> signs one out,
                            /signout others every device but this one
  /password <current> <new> change your password (your other devices are signed out)
  /block <username>         block someone; /unblock <username>; /blocks lists them
  /status                   connection state, sync position, outbox
  /retry                    resend messages that failed
  /reply <n> <text>         answer message n of the open channel (1 = the newest, 2 = the one before, ...)
  /edit <n> <text>          change the text of your message n
  /delete <n>               delete message n (yours; in a group you own or administer, anyone's)
  /react <n> <emoji>        react to message n;  /unreact <n> <emoji> takes it back
  /logout                   log this device out;  /quit (or Ctrl-D) to exit
Anything else is sent to the open channel.`;

interface Args {
  url: string;
  user?: string;
  password?: string;
  signup: boolean;
  data?: string;
}

function parseCli(): Args {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      signup: { type: 'boolean', default: false },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(
      'Usage: parley-chat [--url URL] [--user NAME --password PW [--signup]] [--data DIR]\n' +
        'Environment: PARLEY_URL, PARLEY_USER, PARLEY_PASSWORD.\n\n' +
        HELP +
        '\n',
    );
    process.exit(0);
  }
  return {
    url: values.url ?? process.env.PARLEY_URL ?? 'http://127.0.0.1:8080',
    user: values.user ?? process.env.PARLEY_USER,
    password: values.password ?? process.env.PARLEY_PASSWORD,
    signup: values.signup ?? false,
    data: values.data,
  };
}

class Terminal {
  readonly rl: Interface;
  #muted = false;

  constructor() {
    this.rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
    const rl = this.rl as unknown as { _writeToOutput: (s: string) => void };
    const write = rl._writeToOutput.bind(rl);
    rl._writeToOutput = (s: string) => {
      if (!this.#muted || s.includes('\n')) write(this.#muted ? '\n' : s);
    };
  }

  /** Prints a line above the prompt without disturbing what the user is typing. */
  print(line: string): void {
    if (process.stdout.isTTY) {
      process.stdout.write('\r\x1b[K' + line + '\n');
      this.rl.prompt(true);
    } else {
      process.stdout.write(line + '\n');
    }
  }

  ask(question: string, hidden = false): Promise<string> {
    return new Promise((resolve, reject) => {
      const onClose = () => reject(new Error('input closed'));
      this.rl.once('close', onClose);
      this.rl.question(question, (answer) => {
        this.#muted = false;
        this.rl.off('close', onClose);
        resolve(answer.trim());
      });
      this.#muted = hidden && Boolean(process.stdin.isTTY);
    });
  }
}

const time = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '--:--' : d.toTimeString().slice(0, 5);
};

class ChatApp {
  readonly #term: Terminal;
  readonly #client: ParleyClient;
  #me: User | undefined;
  readonly #users = new Map<string, User>();
  #channels: Channel[] = [];
  #current: Channel | undefined;
  #history: Message[] = [];
  #requests: { id: string; from: User }[] = [];
  #devices: { id: string; name: string }[] = [];
  readonly #typingShown = new Map<string, number>();

  constructor(term: Terminal, client: ParleyClient) {
    this.#term = term;
    this.#client = client;
  }

  async start(args: Args): Promise<void> {
    const client = this.#client;
    if (await client.resume()) {
      try {
        this.#me = await client.api.me();
      } catch (error) {
        if (!(error instanceof ChatError && error.code === 'unauthorized')) throw error;
        await client.logout().catch(() => {});
      }
    }
    while (!this.#me) {
      try {
        this.#me = await this.#authenticate(args);
      } catch (error) {
        if (!(error instanceof ChatError)) throw error;
        this.#term.print(`! ${error.code}: ${error.message}`);
        if (args.user && args.password) throw error; // non-interactive: give up
      }
    }
    this.#users.set(this.#me.id, this.#me);
    this.#term.print(`Logged in as ${this.#me.displayName} (@${this.#me.username}) on ${client.api.baseUrl}`);
    this.#wire();
    await this.#loadChannels();
    client.connect().catch(() => {}); // terminal errors are printed by the `error` listener
    this.#printChannels();
    this.#term.print('Type /help for commands.');
    this.#term.rl.setPrompt('> ');
    this.#term.rl.prompt();
  }

  /** Queues a command line: one at a time, in order, after start (pasted or piped lines too). */
  enqueue(line: string): void {
    this.idle = this.idle
      .then(() => this.#handle(line.trim()))
      .catch((error: unknown) => this.#term.print(`! ${describeError(error)}`))
      .then(() => this.#term.rl.prompt());
  }

  /** Settles when every command queued so far has finished. */
  idle: Promise<void> = Promise.resolve();

  /** Waits (up to `ms`) for pending messages and changes to be sent, so that piped input is delivered. */
  async drainOutbox(ms: number): Promise<void> {
    const pending = this.#client.outbox.filter((m) => m.state === 'pending');
    if ((pending.length === 0 && this.#client.pendingChanges.length === 0) || this.#client.state !== 'online') return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const changesDone = new Promise<void>((resolve) => {
      if (this.#client.pendingChanges.length === 0) return resolve();
      const off = this.#client.on('change', () => {
        if (this.#client.pendingChanges.length > 0) return;
        off();
        resolve();
      });
    });
    await Promise.race([
      Promise.all([...pending.map((m) => this.#client.settled(m.clientMsgId)), changesDone]),
      new Promise((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }

  async #authenticate(args: Args): Promise<User> {
    const client = this.#client;
    if (args.user && args.password) {
      const input = { username: args.user, password: args.password };
      return (args.signup ? await client.signup(input) : await client.login(input)).user;
    }
    const mode = (await this.#term.ask('(l)og in or (s)ign up? ')).toLowerCase();
    const username = await this.#term.ask('username: ');
    const password = await this.#term.ask('password: ', true);
    if (mode.startsWith('s')) {
      const displayName = await this.#term.ask('display name (optional): ');
      return (await client.signup({ username, password, ...(displayName ? { displayName } : {}) })).user;
    }
    return (await client.login({ username, password })).user;
  }

  #wire(): void {
    const client = this.#client;
    const term = this.#term;
    let first = true;
    client.connection.subscribe((state) => {
      if (!first) term.print(`* connection: ${state}`);
      first = false;
    });
    client.on('message', (m) => {
      const channel = this.#channels.find((c) => c.id === m.channelId);
      if (channel) channel.lastMessage = m;
      if (this.#current?.id === m.channelId) {
        if (insertMessage(this.#history, m)) term.print(this.#format(m));
        if (m.senderId !== this.#me?.id) void client.markRead(m.channelId, m.id).catch(() => {});
      } else if (channel) {
        if (m.senderId !== this.#me?.id) channel.unreadCount++;
        term.print(`[${this.#label(channel)}] ${this.#format(m)}`);
      } else {
        term.print(`[new channel] ${this.#format(m)}`);
        void this.#loadChannels();
      }
    });
    client.on('messageChanged', (m) => {
      if (this.#current?.id !== m.channelId || !replaceMessage(this.#history, m)) return;
      term.print(`* ${m.deletedAt ? 'deleted' : 'edited'}: ${this.#format(m)}`);
    });
    client.on('reaction', (e) => {
      if (this.#current?.id !== e.channelId) return;
      const i = this.#history.findIndex((m) => m.id === e.messageId);
      if (i < 0) return;
      this.#history[i] = applyReaction(this.#history[i]!, e, this.#me?.id);
      const verb = e.type === 'reaction.added' ? 'reacted' : 'took back';
      term.print(`* ${this.#name(e.userId)} ${verb} ${e.emoji}: ${this.#format(this.#history[i]!)}`);
    });
    client.on('change', (c) => {
      if (c.state === 'failed') term.print(`! could not ${c.kind} (${c.error?.code}: ${c.error?.message})`);
    });
    client.on('outbox', (m) => {
      if (m.state === 'failed') {
        term.print(`! not sent (${m.error?.code ?? 'error'}: ${m.error?.message ?? ''}): ${m.text.slice(0, 60)}`);
      }
    });
    client.on('presence', (p) => {
      const user = this.#users.get(p.userId);
      if (!user || p.userId === this.#me?.id) return;
      term.print(`* ${user.displayName} is ${p.status}`);
    });
    client.on('typing', (t) => {
      if (t.channelId !== this.#current?.id || t.userId === this.#me?.id) return;
      const now = Date.now();
      if (now - (this.#typingShown.get(t.userId) ?? 0) < 5_000) return;
      this.#typingShown.set(t.userId, now);
      term.print(`* ${this.#name(t.userId)} is typing...`);
    });
    client.on('channel', (e) => {
      this.#learn(e.channel);
      const known = this.#channels.find((c) => c.id === e.channel.id);
      if (e.type === 'member.removed' && e.userId === this.#me?.id) {
        this.#channels = this.#channels.filter((c) => c.id !== e.channel.id);
        if (this.#current?.id === e.channel.id) this.#current = undefined;
        term.print(`* you left ${this.#label(e.channel)}`);
        return;
      }
      if (known) Object.assign(known, e.channel);
      else this.#channels.push({ ...e.channel, unreadCount: 0, unreadMentionCount: 0 });
      const who = 'userId' in e ? this.#name(e.userId) : '';
      const what =
        e.type === 'channel.created'
          ? 'new channel'
          : e.type === 'member.added'
            ? `${who} joined`
            : e.type === 'member.removed'
              ? `${who} left`
              : 'updated';
      term.print(`* ${this.#label(e.channel)}: ${what}`);
    });
    client.on('friend', (e) => {
      if (e.type === 'friend.requested') {
        this.#users.set(e.request.fromUser.id, e.request.fromUser);
        if (e.request.toUserId === this.#me?.id) {
          term.print(`* friend request from @${e.request.fromUser.username} (see /requests)`);
        }
      } else if (e.type === 'friend.added') {
        this.#users.set(e.friend.id, e.friend);
        term.print(`* you and @${e.friend.username} are now friends`);
      } else {
        term.print(`* ${this.#name(e.userId)} is no longer your friend`);
      }
    });
    client.on('resync', ({ reason }) => {
      if (reason === 'lost') term.print('* resynchronising...');
      void this.#loadChannels();
    });
    client.on('error', (e) => term.print(`! ${e.code}: ${e.message}`));
  }

  async #handle(line: string): Promise<void> {
    if (!line) return;
    if (!line.startsWith('/')) {
      if (!this.#current) {
        this.#term.print('! open a channel first (/channels, /open <n>)');
        return;
      }
      const m = this.#client.send(this.#current.id, line);
      if (m.state === 'pending' && this.#client.state !== 'online') this.#term.print('* queued: sends when online');
      return;
    }
    const [command = '', ...rest] = line.slice(1).split(/\s+/);
    const arg = rest.join(' ');
    const api = this.#client.api;
    switch (command) {
      case 'help':
        this.#term.print(HELP);
        return;
      case 'channels':
      case 'ls':
        await this.#loadChannels();
        this.#printChannels();
        return;
      case 'open':
        await this.#open(arg);
        return;
      case 'history':
        await this.#older(Number(arg) || 20);
        return;
      case 'dm': {
        const user = await this.#findUser(arg);
        const channel = await api.openDm(user.id);
        this.#upsert(channel);
        await this.#show(channel);
        return;
      }
      case 'group': {
        const [name, list = ''] = rest;
        if (!name) throw new Error('usage: /group <name> <user1,user2,...>');
        const members = await Promise.all(
          list
            .split(',')
            .filter(Boolean)
            .map((u) => this.#findUser(u)),
        );
        const channel = await api.createGroup({ name, memberIds: members.map((u) => u.id) });
        this.#upsert(channel);
        await this.#show(channel);
        return;
      }
      case 'invite': {
        const channel = this.#requireCurrent();
        const user = await this.#findUser(arg);
        await api.addMember(channel.id, user.id);
        this.#term.print(`* invited @${user.username}`);
        return;
      }
      case 'mute':
      case 'unmute': {
        const channel = this.#requireCurrent();
        await api.setChannelMuted(channel.id, command === 'mute');
        this.#term.print(command === 'mute' ? '* muted: no push notifications from here' : '* unmuted');
        return;
      }
      case 'leave': {
        const channel = this.#requireCurrent();
        if (!this.#me) return;
        await api.removeMember(channel.id, this.#me.id);
        return;
      }
      case 'who': {
        const channel = this.#requireCurrent();
        const info = await api.channel(channel.id);
        this.#learn(info);
        for (const m of info.members) {
          const p = this.#client.presenceOf(m.id) ?? m.presence;
          this.#term.print(`  ${m.displayName} (@${m.username}) ${m.role} - ${describePresence(p)}`);
        }
        return;
      }
      case 'search': {
        if (!arg.trim()) throw new Error('usage: /search <words>');
        const { results } = await this.#client.search(arg);
        if (results.length === 0) this.#term.print('  no messages found');
        for (const { message, highlights } of results) {
          const channel = this.#channels.find((c) => c.id === message.channelId);
          const label = channel ? this.#label(channel) : message.channelId;
          this.#term.print(`  [${label}] ${this.#format({ ...message, text: marked(message.text, highlights) })}`);
        }
        return;
      }
      case 'mentions': {
        const { results } = await this.#client.mentions();
        if (results.length === 0) this.#term.print('  no mentions');
        for (const { message } of results) {
          const channel = this.#channels.find((c) => c.id === message.channelId);
          this.#term.print(`  [${channel ? this.#label(channel) : message.channelId}] ${this.#format(message)}`);
        }
        return;
      }
      case 'friends': {
        const friends = await api.friends();
        if (friends.length === 0) this.#term.print('  no friends yet (/friend <username>)');
        for (const f of friends) {
          this.#users.set(f.user.id, f.user);
          const p = this.#client.presenceOf(f.user.id) ?? f.presence;
          this.#term.print(`  ${f.user.displayName} (@${f.user.username}) - ${describePresence(p)}`);
        }
        return;
      }
      case 'friend': {
        const user = await this.#findUser(arg);
        await api.sendFriendRequest(user.id);
        this.#term.print(`* friend request sent to @${user.username}`);
        return;
      }
      case 'requests': {
        const { incoming, outgoing } = await api.friendRequests();
        this.#requests = incoming.map((r) => ({ id: r.id, from: r.fromUser }));
        this.#requests.forEach((r, i) => this.#term.print(`  ${i + 1}. from @${r.from.username} (/accept ${i + 1})`));
        for (const r of outgoing) this.#term.print(`  -> to @${r.toUser.username} (waiting)`);
        if (incoming.length + outgoing.length === 0) this.#term.print('  no pending requests');
        return;
      }
      case 'accept': {
        const request = this.#requests[Number(arg) - 1];
        if (!request) throw new Error('usage: /accept <n> (see /requests)');
        await api.acceptFriendRequest(request.id);
        this.#term.print(`* accepted @${request.from.username}`);
        return;
      }
      case 'me': {
        if (arg) this.#me = await api.updateMe({ displayName: arg });
        else this.#me = await api.me();
        this.#term.print(`  ${this.#me.displayName} (@${this.#me.username}) id ${this.#me.id}`);
        return;
      }
      case 'devices': {
        const devices = await api.devices();
        this.#devices = devices;
        devices.forEach((d, i) =>
          this.#term.print(
            `  ${i + 1}. ${d.name}${d.current ? ' (this device)' : ''} - last used ${new Date(d.lastUsedAt).toLocaleString()}`,
          ),
        );
        return;
      }
      case 'signout': {
        if (arg === 'others') {
          await api.signOutOtherDevices();
          this.#term.print('* signed out every other device');
          return;
        }
        const device = this.#devices[Number(arg) - 1];
        if (!device) throw new Error('usage: /signout <n> (see /devices) or /signout others');
        await api.signOutDevice(device.id);
        this.#term.print(`* signed out ${device.name}`);
        return;
      }
      case 'password': {
        const [currentPassword, newPassword] = rest;
        if (!currentPassword || !newPassword) throw new Error('usage: /password <current> <new>');
        await api.changePassword({ currentPassword, newPassword });
        this.#term.print('* password changed; your other devices are signed out');
        return;
      }
      case 'block':
      case 'unblock': {
        const user = await this.#findUser(arg);
        if (command === 'block') await api.block(user.id);
        else await api.unblock(user.id);
        this.#term.print(`* ${command}ed @${user.username}`);
        return;
      }
      case 'blocks': {
        const blocks = await api.blocks();
        if (blocks.length === 0) this.#term.print('  nobody blocked');
        for (const b of blocks)
          this.#term.print(`  @${b.user.username} since ${new Date(b.createdAt).toLocaleString()}`);
        return;
      }
      case 'status': {
        const c = this.#client;
        const outbox = c.outbox;
        this.#term.print(
          `  ${c.state}, seq ${c.seq ?? '-'}, outbox: ${outbox.filter((m) => m.state === 'pending').length} pending, ` +
            `${outbox.filter((m) => m.state === 'failed').length} failed`,
        );
        return;
      }
      case 'reply': {
        const target = this.#nth(rest[0]);
        const text = rest.slice(1).join(' ');
        if (!text) throw new Error('usage: /reply <n> <text>');
        this.#client.reply(target.channelId, target.id, text);
        return;
      }
      case 'edit': {
        const target = this.#nth(rest[0]);
        const text = rest.slice(1).join(' ');
        if (!text) throw new Error('usage: /edit <n> <text>');
        this.#client.edit(target.channelId, target.id, text);
        return;
      }
      case 'delete': {
        const target = this.#nth(rest[0]);
        this.#client.delete(target.channelId, target.id);
        return;
      }
      case 'react':
      case 'unreact': {
        const target = this.#nth(rest[0]);
        const emoji = rest[1];
        if (!emoji) throw new Error(`usage: /${command} <n> <emoji>`);
        if (command === 'react') this.#client.react(target.channelId, target.id, emoji);
        else this.#client.unreact(target.channelId, target.id, emoji);
        return;
      }
      case 'retry':
        for (const m of this.#client.outbox) if (m.state === 'failed') this.#client.retry(m.clientMsgId);
        return;
      case 'logout':
        await this.#client.logout();
        this.#term.print('* logged out');
        this.#term.rl.close();
        return;
      case 'quit':
      case 'exit':
        this.#term.rl.close();
        return;
      default:
        this.#term.print(`! unknown command /${command} (try /help)`);
    }
  }

  async #loadChannels(): Promise<void> {
    this.#channels = await this.#client.api.channels();
    for (const c of this.#channels) this.#learn(c);
    if (this.#current) this.#current = this.#channels.find((c) => c.id === this.#current?.id);
  }

  #printChannels(): void {
    if (this.#channels.length === 0) {
      this.#term.print('  no channels yet: /dm <username> or /group <name> <users>');
      return;
    }
    this.#channels.forEach((c, i) => {
      const unread =
        (c.unreadCount > 0 ? `  (${c.unreadCount} unread)` : '') +
        (c.unreadMentionCount > 0 ? `  (@ ${c.unreadMentionCount})` : '');
      const last = c.lastMessage ? `  ${this.#name(c.lastMessage.senderId)}: ${c.lastMessage.text.slice(0, 40)}` : '';
      this.#term.print(`  ${i + 1}. ${this.#label(c)}${unread}${last}`);
    });
  }

  async #open(arg: string): Promise<void> {
    if (this.#channels.length === 0) await this.#loadChannels();
    const n = Number(arg);
    const channel =
      (Number.isInteger(n) && n > 0 ? this.#channels[n - 1] : undefined) ??
      this.#channels.find((c) => this.#label(c).replace(/^[#@]/, '') === arg.replace(/^[#@]/, '') || c.id === arg);
    if (!channel) throw new Error(`no channel "${arg}" (see /channels)`);
    await this.#show(channel);
  }

  async #show(channel: Channel): Promise<void> {
    this.#current = channel;
    this.#history = await this.#client.api.messages(channel.id, { limit: 20 });
    this.#term.print(`--- ${this.#label(channel)} (${channel.members.length} members) ---`);
    for (const m of this.#history) this.#term.print(this.#format(m));
    const last = this.#history.at(-1);
    channel.unreadCount = 0;
    if (last) await this.#client.markRead(channel.id, last.id);
  }

  async #older(limit: number): Promise<void> {
    const channel = this.#requireCurrent();
    const first = this.#history[0];
    const page = await this.#client.api.messages(channel.id, first ? { before: first.id, limit } : { limit });
    if (page.length === 0) {
      this.#term.print('  (no older messages)');
      return;
    }
    this.#term.print(`--- ${page.length} older ---`);
    for (const m of page) {
      insertMessage(this.#history, m);
      this.#term.print(this.#format(m));
    }
    this.#term.print('--- end of older ---');
  }

  async #findUser(name: string): Promise<User> {
    const username = name.replace(/^@/, '').toLowerCase();
    if (!username) throw new Error('which user?');
    const users = await this.#client.api.searchUsers(username);
    const user = users.find((u) => u.username.toLowerCase() === username);
    if (!user) throw new Error(`no user @${username}`);
    this.#users.set(user.id, user);
    return user;
  }

  /** Message n of the open channel, counted from the newest (1). */
  #nth(arg: string | undefined): Message {
    this.#requireCurrent();
    const n = Number(arg);
    const message = Number.isInteger(n) && n > 0 ? this.#history[this.#history.length - n] : undefined;
    if (!message) throw new Error(`no message ${arg ?? ''} (1 is the newest of the open channel)`);
    return message;
  }

  #requireCurrent(): Channel {
    if (!this.#current) throw new Error('open a channel first');
    return this.#current;
  }

  #upsert(channel: Channel): void {
    this.#learn(channel);
    const i = this.#channels.findIndex((c) => c.id === channel.id);
    if (i >= 0) this.#channels[i] = channel;
    else this.#channels.push(channel);
  }

  #learn(channel: ChannelInfo): void {
    for (const m of channel.members) {
      this.#users.set(m.id, { id: m.id, username: m.username, displayName: m.displayName });
    }
  }

  #label(channel: ChannelInfo): string {
    if (channel.kind === 'group') return `#${channel.name ?? channel.id}`;
    const other = channel.members.find((m) => m.id !== this.#me?.id) ?? channel.members[0];
    return other ? `@${other.username}` : `@${channel.id}`;
  }

  #name(userId: string): string {
    if (userId === this.#me?.id) return 'you';
    return this.#users.get(userId)?.displayName ?? `user ${userId}`;
  }

  #format(m: Message): string {
    const head = `${time(m.createdAt)} ${this.#name(m.senderId)}`;
    if (m.deletedAt) return `${head}: [message deleted]`;
    const reply = m.replyTo
      ? ` (re ${this.#name(m.replyTo.senderId)}: ${m.replyTo.preview?.slice(0, 30) ?? '[deleted]'})`
      : '';
    const edited = m.editedAt ? ' (edited)' : '';
    const reactions = m.reactions?.length ? `  [${m.reactions.map((r) => `${r.emoji}${r.count}`).join(' ')}]` : '';
    return `${head}${reply}: ${m.text}${edited}${reactions}`;
  }
}

/** The text with each [start, end) code-point range put in brackets. */
export function marked(text: string, ranges: readonly (readonly [number, number])[]): string {
  const chars = [...text];
  let out = '';
  let at = 0;
  for (const [start, end] of ranges) {
    out += chars.slice(at, start).join('') + '[' + chars.slice(start, end).join('') + ']';
    at = end;
  }
  return out + chars.slice(at).join('');
}

function describePresence(p: { status: string; lastSeenAt?: string } | undefined): string {
  if (!p || p.status === 'unknown') return 'unknown';
  if (p.status === 'online') return 'online';
  return p.lastSeenAt ? `offline, last seen ${new Date(p.lastSeenAt).toLocaleString()}` : 'offline';
}

function describeError(error: unknown): string {
  if (error instanceof ChatError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  const args = parseCli();
  const host = new URL(args.url).host.replace(/[^a-zA-Z0-9.-]/g, '_');
  const dataDir = args.data ?? join(homedir(), '.parley', host);
  const client = new ParleyClient({ baseUrl: args.url, storage: new FileStorage(dataDir), deviceName: 'terminal' });
  const term = new Terminal();
  let closing = false;
  const app = new ChatApp(term, client);
  const started = app.start(args);
  app.idle = started.catch(() => {});
  term.rl.on('line', (line) => app.enqueue(line));
  term.rl.on('close', () => {
    if (closing) return;
    closing = true;
    void app.idle
      .then(() => app.drainOutbox(5_000))
      .then(() => client.close())
      .finally(() => process.exit(0));
  });
  try {
    await started;
  } catch (error) {
    process.stderr.write(`parley-chat: ${describeError(error)}\n`);
    closing = true;
    await client.close();
    process.exit(1);
  }
}

void main();
