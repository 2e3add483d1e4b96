import { ChatError, limits } from '@parley/protocol';
import type { Channel, ChannelMember } from '@parley/protocol';
import { useState } from 'react';
import { useI18n } from '../i18n';
import { navigate } from '../route';
import { useChat, useChatStore } from '../state/context';
import { channelTitle } from '../state/store';
import { Avatar } from './Avatar';
import { IconButton } from './IconButton';
import { BlockToggle } from './BlockButton';
import { PersonRow } from './PersonRow';
import { UserPicker } from './UserPicker';

const roleRank = { owner: 0, admin: 1, member: 2 } as const;

/** Group details: name, members with presence and roles, add/remove (owner/admin), leave. */
export function DetailsPanel({ channel, onClose }: { channel: Channel; onClose(): void }) {
  const { t } = useI18n();
  const store = useChatStore();
  const me = useChat((s) => s.me);
  const presence = useChat((s) => s.presence);
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(channel.name ?? '');
  const [adding, setAdding] = useState(false);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState<ChannelMember | null>(null);
  const [error, setError] = useState<string | null>(null);
  const myRole = channel.members.find((m) => m.id === me.id)?.role ?? 'member';
  const canManage = myRole === 'owner' || myRole === 'admin';
  const title = channelTitle(channel, me.id);

  const run = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(
        err instanceof ChatError && err.code === 'group_full'
          ? t('group.full', { max: limits.maxGroupMembers })
          : t('common.error'),
      );
    }
  };

  const members = [...channel.members].sort(
    (a, b) =>
      roleRank[a.role] - roleRank[b.role] ||
      (presence[a.id]?.status === 'online' ? 0 : 1) - (presence[b.id]?.status === 'online' ? 0 : 1) ||
      a.displayName.localeCompare(b.displayName),
  );

  return (
    <aside className="details" aria-label={t('group.details')}>
      <header className="details-head">
        <h2>{t('group.details')}</h2>
        <IconButton icon="close" label={t('common.close')} onClick={onClose} />
      </header>
      <div className="details-body">
        <div className="group-card">
          <Avatar id={channel.id} name={title} size={72} group />
          {renaming ? (
            <form
              className="rename"
              onSubmit={(e) => {
                e.preventDefault();
                void run(async () => {
                  await store.renameGroup(channel.id, name.trim());
                  setRenaming(false);
                });
              }}
            >
              <input
                aria-label={t('group.name')}
                value={name}
                maxLength={limits.maxGroupNameLength}
                onChange={(e) => setName(e.target.value)}
                autoFocus
              />
              <button type="submit" className="btn primary small" disabled={!name.trim()}>
                {t('group.save')}
              </button>
            </form>
          ) : (
            <h3 className="group-name">{title}</h3>
          )}
          <p className="muted">{t('chat.members', { count: channel.members.length })}</p>
          {canManage && !renaming && (
            <button type="button" className="link-btn" onClick={() => setRenaming(true)}>
              {t('group.rename')}
            </button>
          )}
        </div>

        {canManage && (
          <div className="details-section">
            {adding ? (
              <AddMember
                channel={channel}
                onAdd={(id) => run(() => store.addMember(channel.id, id))}
                onDone={() => setAdding(false)}
              />
            ) : (
              <button
                type="button"
                className="btn secondary wide"
                onClick={() => setAdding(true)}
                disabled={channel.members.length >= limits.maxGroupMembers}
              >
                {t('group.addMember')}
              </button>
            )}
          </div>
        )}

        <h3 className="section-label">{t('chat.members', { count: channel.members.length })}</h3>
        <div className="pick-list members">
          {members.map((m) => (
            <MemberRow
              key={m.id}
              member={m}
              isMe={m.id === me.id}
              myRole={myRole}
              onRemove={() => setConfirmRemove(m)}
              onRole={(role) => run(() => store.setRole(channel.id, m.id, role))}
            />
          ))}
        </div>

        {confirmRemove && (
          <div className="details-section confirm" role="alertdialog" aria-label={t('group.removeMember')}>
            <p>
              {t('group.removeConfirm', {
                name: confirmRemove.displayName || confirmRemove.username,
                group: title,
              })}
            </p>
            <div className="row">
              <button type="button" className="btn secondary small" onClick={() => setConfirmRemove(null)}>
                {t('common.cancel')}
              </button>
              <button
                type="button"
                className="btn danger small"
                onClick={() => {
                  const member = confirmRemove;
                  setConfirmRemove(null);
                  void run(() => store.removeMember(channel.id, member.id));
                }}
              >
                {t('group.removeMember')}
              </button>
            </div>
          </div>
        )}

        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}

        <div className="details-section">
          {confirmLeave ? (
            <div className="confirm">
              <p>{t('group.leaveConfirm', { name: title })}</p>
              <div className="row">
                <button type="button" className="btn secondary small" onClick={() => setConfirmLeave(false)}>
                  {t('common.cancel')}
                </button>
                <button
                  type="button"
                  className="btn danger small"
                  onClick={() =>
                    void run(async () => {
                      await store.removeMember(channel.id, me.id);
                      onClose();
                      navigate('');
                    })
                  }
                >
                  {t('group.leave')}
                </button>
              </div>
            </div>
          ) : (
            <button type="button" className="btn danger-outline wide" onClick={() => setConfirmLeave(true)}>
              {t('group.leave')}
            </button>
          )}
        </div>
      </div>
    </aside>
  );
}

function MemberRow({
  member,
  isMe,
  myRole,
  onRemove,
  onRole,
}: {
  member: ChannelMember;
  isMe: boolean;
  myRole: ChannelMember['role'];
  onRemove(): void;
  onRole(role: 'admin' | 'member'): void;
}) {
  const { t } = useI18n();
  const canRemove =
    !isMe && member.role !== 'owner' && (myRole === 'owner' || (myRole === 'admin' && member.role === 'member'));
  const canPromote = myRole === 'owner' && !isMe && member.role !== 'owner';
  const label = member.displayName || member.username;
  return (
    <PersonRow
      user={member}
      sub={
        <>
          {member.role !== 'member' && <span className={`role ${member.role}`}>{t(`group.role.${member.role}`)}</span>}
          {isMe ? ` ${t('nav.you')}` : member.displayName !== member.username ? ` @${member.username}` : ''}
        </>
      }
    >
      {canPromote && (
        <IconButton
          icon="shield"
          label={`${member.role === 'admin' ? t('group.makeMember') : t('group.makeAdmin')}: ${label}`}
          className={member.role === 'admin' ? 'on' : ''}
          onClick={() => onRole(member.role === 'admin' ? 'member' : 'admin')}
        />
      )}
      {!isMe && <BlockToggle userId={member.id} name={label} />}
      {canRemove && <IconButton icon="close" label={`${t('group.removeMember')}: ${label}`} onClick={onRemove} />}
    </PersonRow>
  );
}

function AddMember({ channel, onAdd, onDone }: { channel: Channel; onAdd(id: string): Promise<void>; onDone(): void }) {
  const { t } = useI18n();
  const memberIds = new Set(channel.members.map((m) => m.id));
  return (
    <div className="add-member">
      <UserPicker
        label={t('group.addMember')}
        autoFocus
        beside={<IconButton icon="close" label={t('common.close')} onClick={onDone} />}
        mode={{
          kind: 'action',
          action: (u) =>
            memberIds.has(u.id) ? (
              <span className="tag">{t('group.role.member')}</span>
            ) : (
              <button
                type="button"
                className="btn primary small"
                aria-label={`${t('friends.add')}: ${u.displayName || u.username}`}
                onClick={() => void onAdd(u.id)}
              >
                {t('friends.add')}
              </button>
            ),
        }}
      />
    </div>
  );
}
