// A refusal page returns the user to the service after the delay it states, so the agency always hears
// back; "Stay on this page" turns the timer off (WCAG 2.1 2.2.1 Timing Adjustable). Without scripts a
// <noscript> refresh does the same.
(() => {
  const note = document.getElementById('auto-return');
  if (!note) return;
  const stay = document.getElementById('stay');
  const timer = setTimeout(() => location.assign(note.dataset.url), Number(note.dataset.seconds) * 1000);
  if (!stay) return;
  stay.hidden = false;
  stay.addEventListener('click', () => {
    clearTimeout(timer);
    note.textContent = note.dataset.stayed;
    stay.hidden = true;
    note.focus();
  });
})();
