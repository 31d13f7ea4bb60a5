// ReDoc's bundle hard-codes <img src="https://cdn.redoc.ly/redoc/logo-mini.svg"> in its footer (no
// option hides it), and its React sets `src` both as an attribute and as a property. Loaded before
// the bundle, this points both at the copy served here, so the image is never requested from the
// CDN. The page's Content-Security-Policy (tasks/api/docs.py) blocks any other host as well.
(() => {
  const remote = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  const local = document.currentScript.dataset.logo;
  const here = (value) => (value === remote ? local : value);
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    return setAttribute.call(this, name, name === "src" ? here(value) : value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, here(value));
    },
  });
})();
