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
// After htmx swaps a decided item, keep the keyboard where the work is: the next item (or the
// result itself after the last one). The swapped-out article is detached by then, so its list
// item is remembered before the swap. A refusal (4xx, shown inside the item) keeps the focus.
var decidedItem = null;
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail && event.detail.target;
  decidedItem = target && target.closest ? target.closest("li") : null;
});
document.addEventListener("htmx:afterSwap", function (event) {
  var li = decidedItem;
  decidedItem = null;
  if (!li || (event.detail && event.detail.failed)) return;
  var next = li.nextElementSibling ? li.nextElementSibling.querySelector("[data-queue-item]") : null;
  var here = next || li.querySelector("article");
  if (here) here.focus();
});
