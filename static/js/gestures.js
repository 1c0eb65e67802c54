// Pointer gestures on the message list: a right click opens a message's menu where the
// pointer is (desktop); on a touch screen a long press opens it as a sheet, and swiping a
// message to the left replies to it (it follows the finger; far enough and let go, the reply
// starts). A link, a selection or a control keeps the browser's own behaviour.

/** How long a touch must rest on a message to open its menu. */
const LONG_PRESS_MS = 500;
/** A finger that moves this far is scrolling or swiping, not pressing. */
const SLOP = 10;
/** How far to the left a swipe must go to reply. */
const SWIPE_REPLY = 64;
const SWIPE_MAX = 96;

const IGNORE = 'a, button, textarea, input, .edit-box, .reactions';

/**
 * @param {HTMLElement} list  the message list
 * @param {object} hooks {menu(node, {point}), reply(node)}: `node` is a message's element
 */
export function attachGestures(list, hooks) {
  const messageAt = (target) => {
    const node = target.closest?.('.msg');
    return node && !node.classList.contains('pending') && !node.classList.contains('is-deleted') && list.contains(node) ? node : null;
  };

  let press = null;
  /** The finger that opened the menu was lifted: the click some browsers make of it is not one. */
  let swallowClick = false;
  const fire = () => {
    clearTimeout(press.timer);
    press.fired = true;
    hooks.menu(press.node, {});
  };

  list.addEventListener('contextmenu', (event) => {
    if (press) {
      // A long press (some browsers say so themselves): the menu, once.
      event.preventDefault();
      if (!press.fired && !press.swiping) fire();
      return;
    }
    const node = messageAt(event.target);
    if (!node || event.target.closest(IGNORE)) return;
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed && node.contains(selection.anchorNode)) return;
    event.preventDefault();
    hooks.menu(node, { point: { x: event.clientX, y: event.clientY } });
  });

  const reset = () => {
    if (!press) return;
    clearTimeout(press.timer);
    press.node.classList.remove('swiping');
    press.node.style.transform = '';
    press = null;
  };

  list.addEventListener('pointerdown', (event) => {
    if (event.pointerType !== 'touch') return;
    const node = messageAt(event.target);
    if (!node || event.target.closest(IGNORE)) return;
    reset();
    press = { node, x: event.clientX, y: event.clientY, dx: 0, swiping: false, fired: false, id: event.pointerId };
    press.timer = setTimeout(() => {
      if (press && !press.swiping && !press.fired) fire();
    }, LONG_PRESS_MS);
  });

  list.addEventListener('pointermove', (event) => {
    if (!press || event.pointerId !== press.id) return;
    const dx = event.clientX - press.x;
    const dy = event.clientY - press.y;
    if (!press.swiping) {
      if (Math.abs(dy) > SLOP && Math.abs(dy) >= Math.abs(dx)) {
        reset();
        return;
      }
      if (dx < -SLOP && Math.abs(dx) > Math.abs(dy)) {
        press.swiping = true;
        clearTimeout(press.timer);
        press.node.classList.add('swiping');
      }
    }
    if (press.swiping) {
      press.dx = Math.max(-SWIPE_MAX, Math.min(0, dx));
      press.node.style.transform = `translateX(${press.dx}px)`;
      press.node.classList.toggle('swipe-ready', press.dx <= -SWIPE_REPLY);
    }
  });

  list.addEventListener('pointerup', (event) => {
    if (!press || event.pointerId !== press.id) return;
    const { node, swiping, dx, fired } = press;
    swallowClick = fired;
    reset();
    node.classList.remove('swipe-ready');
    if (swiping && dx <= -SWIPE_REPLY) hooks.reply(node);
  });
  list.addEventListener('pointercancel', () => {
    press?.node.classList.remove('swipe-ready');
    reset();
  });
  // A long press that opened the menu must not also click what is under the finger (by
  // then, the menu).
  document.addEventListener('pointerdown', () => { swallowClick = false; }, true);
  document.addEventListener('click', (event) => {
    if (!swallowClick) return;
    swallowClick = false;
    event.preventDefault();
    event.stopPropagation();
  }, true);
}
