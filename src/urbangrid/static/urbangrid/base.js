// Behaviour shared by every page, kept out of inline handlers so the content security policy can forbid them.
document.addEventListener("change", (e) => {
  if (e.target.matches("select.autosubmit")) e.target.form.submit();
});
// "Back" links (error pages): the browser's history when there is one, else the link's own target.
document.addEventListener("click", (e) => {
  const back = e.target.closest && e.target.closest("a[data-back]");
  if (back && window.history.length > 1 && document.referrer) {
    e.preventDefault();
    window.history.back();
  }
});
