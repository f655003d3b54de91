// apidok.js starts Swagger UI (swagger-ui-bundle.js, vendored) on the
// developer page /utvikler: it renders the OpenAPI document named by the
// element's data-dokument attribute. Without JavaScript the page shows its
// text and a link to the document; this only adds the viewer. It is a file
// of its own because the pages' Content-Security-Policy allows no inline
// scripts.
(function () {
  "use strict";
  var el = document.getElementById("api-visning");
  if (!el || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  el.textContent = "";
  // Buttons that show only an arrow get their title as their accessible name.
  new MutationObserver(function () {
    el.querySelectorAll("button[title]:not([aria-label])").forEach(function (b) {
      if (!b.textContent.trim()) {
        b.setAttribute("aria-label", b.getAttribute("title"));
      }
    });
  }).observe(el, { childList: true, subtree: true });
  window.SwaggerUIBundle({
    url: el.getAttribute("data-dokument"),
    domNode: el,
    deepLinking: false,
    validatorUrl: null, // no calls to validator.swagger.io: the page talks to this server only
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    showExtensions: false,
    tryItOutEnabled: false,
    persistAuthorization: false,
    withCredentials: false,
    queryConfigEnabled: false,
    // The page has its own h1 and introduction: the document's title block
    // (an h1 of its own) is left out.
    plugins: [function () {
      return { wrapComponents: { InfoContainer: function () { return function () { return null; }; } } };
    }]
  });
})();
