/**
 * Edit, delete, reply and react in the production build, the way people do it: two
 * people in separate browser contexts, each change made on one screen and seen on the other,
 * live and after a reload. Fails on any uncaught page error. Needs `npm run build` and
 * /usr/bin/chromium (or PARLEY_CHROMIUM); skipped when either is missing, except under CI.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuiteMissing, logInUI, messageRow, messageRows, poll, useBrowserSuite, type ApiUser } from './harness';

describe.skipIf(!!browserSuiteMissing)('edit, delete, reply and react in the production build', () => {
  const suite = useBrowserSuite();
  const open = async (who: ApiUser, channelId: string): Promise<Page> => {
    const page = await suite.page(who.username);
    await logInUI(page, who.username);
    await page.evaluate((c) => (location.hash = `#/c/${c}`), channelId);
    return page;
  };
  const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
  const action = async (page: Page, text: string, name: string) => {
    await messageRow(page, text).hover();
    await messageRow(page, text).getByRole('button', { name, exact: true }).click();
  };

  it('each change made on one screen shows on the other, live and after a reload', async () => {
    const alice = await suite.http.signup(`alice${Date.now() % 100000}`, 'Alice');
    const bob = await suite.http.signup(`bob${Date.now() % 100000}`, 'Bob');
    const channelId = await suite.http.dm(alice, bob);
    const alicePage = await open(alice, channelId);
    const bobPage = await open(bob, channelId);

    // Alice sends two messages; Bob sees them.
    for (const text of ['Lunch at noon?', 'wrong chat, sorry']) {
      await composer(alicePage).fill(text);
      await composer(alicePage).press('Enter');
      await messageRow(alicePage, text).waitFor();
      await messageRow(bobPage, text).waitFor();
    }

    // Bob answers the first with a reply: the quote shows on both screens.
    await action(bobPage, 'Lunch at noon?', 'Reply');
    await bobPage.getByRole('status').filter({ hasText: 'Replying to Alice' }).waitFor();
    await composer(bobPage).fill('Sounds good');
    await composer(bobPage).press('Enter');
    for (const page of [alicePage, bobPage]) {
      await messageRow(page, 'Sounds good').locator('.reply-quote', { hasText: 'Lunch at noon?' }).waitFor();
    }

    // Bob reacts to it from the picker; Alice sees the chip and who reacted.
    await action(bobPage, 'Lunch at noon?', 'Add reaction');
    await messageRow(bobPage, 'Lunch at noon?').getByRole('button', { name: '👍', exact: true }).click();
    let reacted = 'Lunch at noon?';
    const chip = (page: Page) => messageRow(page, reacted).getByRole('button', { name: 'Bob reacted with 👍' });
    await chip(alicePage).waitFor();
    expect(await chip(alicePage).textContent()).toContain('1');
    await chip(bobPage).waitFor();
    expect(await chip(bobPage).getAttribute('aria-pressed')).toBe('true');

    // Alice deletes the second, after confirming; Bob sees "Message deleted" and not the text.
    await action(alicePage, 'wrong chat, sorry', 'Delete');
    await alicePage.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await poll(() => messageRows(bobPage).filter({ hasText: 'wrong chat, sorry' }).count()).toBe(0);
    await messageRows(bobPage).filter({ hasText: 'Message deleted' }).first().waitFor();

    // Alice edits her last message that is left with Up on the empty composer.
    await composer(alicePage).click();
    await composer(alicePage).press('ArrowUp');
    await poll(() => composer(alicePage).inputValue()).toBe('Lunch at noon?');
    await composer(alicePage).fill('Lunch at 1pm?');
    await composer(alicePage).press('Enter');
    await messageRow(bobPage, 'Lunch at 1pm?').getByText('edited').waitFor();
    reacted = 'Lunch at 1pm?';
    await chip(bobPage).waitFor(); // an edit keeps the reactions
    // The reply's quote follows the edit once it is read again (after the reload below).

    // After a reload, Bob sees the same: the edit, the reaction, the reply and the tombstone.
    await bobPage.reload();
    await messageRow(bobPage, 'Lunch at 1pm?').getByText('edited').waitFor();
    await chip(bobPage).waitFor();
    await messageRow(bobPage, 'Sounds good').locator('.reply-quote', { hasText: 'Lunch at 1pm?' }).waitFor();
    await messageRows(bobPage).filter({ hasText: 'Message deleted' }).first().waitFor();
    expect(await messageRows(bobPage).filter({ hasText: 'wrong chat, sorry' }).count()).toBe(0);

    // The quote jumps to the original (a permalink, which the app then takes off the address).
    await bobPage.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seenHashes: string[] }).seenHashes = seen;
      window.addEventListener('hashchange', (e) => seen.push(e.newURL));
    });
    const originalId = await messageRow(bobPage, 'Lunch at 1pm?').locator('.msg').getAttribute('data-message-id');
    await messageRow(bobPage, 'Sounds good').locator('.reply-quote').click();
    await poll(() => bobPage.evaluate(() => (window as unknown as { seenHashes: string[] }).seenHashes)).toContainEqual(
      expect.stringContaining(`/m/${originalId}`),
    );

    // Bob takes the reaction back with the chip.
    await chip(bobPage).click();
    await poll(() => chip(alicePage).count()).toBe(0);
  }, 120_000);
});
