// Keyboard decisions in the moderation queue: in a focused item, "a" approves, "r" rejects,
// "h" hides (the buttons carry data-key). Loaded from the app itself: no inline script.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
  var item = target && target.closest ? target.closest("[data-queue-item]") : null;
  if (!item) return;
  var button = item.querySelector('button[data-key="' + event.key + '"]');
  if (button) {
    event.preventDefault();
    button.click();
  }
});
// After htmx swaps a decided item, keep the keyboard where the work is: the next item.
document.addEventListener("htmx:afterSwap", function (event) {
  var done = event.detail && event.detail.target;
  var li = done && done.closest ? done.closest("li") : null;
  var next = li && li.nextElementSibling ? li.nextElementSibling.querySelector("[data-queue-item]") : null;
  if (next) next.focus();
});
