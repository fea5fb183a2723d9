// quotecheck's page, enhanced: a check fetches the same /?text=... URL the form would open,
// swaps its result in, and puts the URL in the address bar, so the check stays a link.
// Without this script (or when the fetch fails) the form submits as a plain GET.
(function () {
  "use strict";
  var form = document.getElementById("check-form");
  var results = document.getElementById("results");
  if (!form || !results || !window.fetch || !window.DOMParser || !window.URLSearchParams) {
    return;
  }
  form.addEventListener("submit", function (event) {
    if (!form.checkValidity()) {
      return; // let the browser say what is missing
    }
    event.preventDefault();
    var params = new URLSearchParams();
    var address = form.elements.url.value.trim();
    if (address && !form.elements.text.value.trim()) {
      params.set("url", address);
    } else {
      params.set("text", form.elements.text.value);
      if (form.elements.speaker.value.trim()) {
        params.set("speaker", form.elements.speaker.value.trim());
      }
      if (address) {
        params.set("url", address); // both: the page says which to give
      }
    }
    var url = form.getAttribute("action") + "?" + params.toString();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    results.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("results");
        if (!fresh) {
          throw new Error("the answer holds no result");
        }
        results.innerHTML = fresh.innerHTML;
        document.title = page.title;
        window.history.replaceState(null, "", url);
      })
      .catch(function () {
        window.location.assign(url);
      })
      .then(function () {
        button.disabled = false;
        results.removeAttribute("aria-busy");
      });
  });
})();
