// Behaviour shared by every page, kept out of inline handlers so the content security policy can forbid them.
document.addEventListener("change", (e) => {
  if (e.target.matches("select.autosubmit")) e.target.form.submit();
});
