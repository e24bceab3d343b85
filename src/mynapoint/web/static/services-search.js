// /services: htmx updates the results and the address as the reader types; keep the language
// switch pointing at the same search (the page itself works without this or any script).
document.body.addEventListener("htmx:pushedIntoHistory", function (event) {
  var link = document.querySelector("nav.language a[hreflang]");
  if (!link) { return; }
  var url = new URL(event.detail.path, window.location.href);
  url.searchParams.set("lang", link.getAttribute("hreflang"));
  link.setAttribute("href", url.pathname + url.search);
});
