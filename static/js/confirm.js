// Plain forms carrying data-confirm="<question>" ask before submitting. The question is read as
// text, never run as code (an inline onsubmit would run a member's name). htmx elements use hx-confirm.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
