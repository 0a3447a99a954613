// Hands the browser over to Webpay: submits the form that posts the transaction's token to
// Transbank (a file, not an inline script, for the CSP). Without JavaScript the person clicks
// the form's button instead.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-webpay-autosubmit]");
  if (form) {
    form.submit();
  }
});
