/* Cascading province → city → district picker. Plain ES5 and XMLHttpRequest so it runs in
   any mobile browser, WeChat's included; without JavaScript the server fills the lists. Its words
   come from the page, in the page's language (data-placeholders, data-no-districts). */
(function () {
  "use strict";
  var pickers = document.querySelectorAll("[data-region-picker]");
  Array.prototype.forEach.call(pickers, function (picker) {
    var template = picker.getAttribute("data-url-template");
    var levels = ["province", "city", "district"];
    var selects = levels.map(function (level) {
      return picker.querySelector('select[data-region-level="' + level + '"]');
    });
    var placeholders = picker.getAttribute("data-placeholders").split("|");

    function reset(index, text) {
      var select = selects[index];
      if (!select) { return; }
      select.options.length = 0;
      select.appendChild(new Option(text || placeholders[index], ""));
    }

    function load(index, code) {
      var select = selects[index];
      if (!select) { return; }
      var request = new XMLHttpRequest();
      request.open("GET", template.replace("CODE", encodeURIComponent(code)));
      request.setRequestHeader("Accept", "application/json");
      request.onload = function () {
        if (request.status !== 200) { return; }
        var items = JSON.parse(request.responseText).items || [];
        reset(index, items.length ? placeholders[index] : picker.getAttribute("data-no-districts"));
        items.forEach(function (item) { select.appendChild(new Option(item.name, item.code)); });
      };
      request.send();
    }

    selects.forEach(function (select, index) {
      if (!select || index === selects.length - 1) { return; }
      select.addEventListener("change", function () {
        for (var next = index + 1; next < selects.length; next++) { reset(next); }
        if (select.value) { load(index + 1, select.value); }
      });
      // A choice made before this deferred script ran (a slow network, a quick hand) fired its
      // change event with nobody listening: fill the next list now unless the server already did.
      var next = selects[index + 1];
      if (select.value && next && next.options.length <= 1) { load(index + 1, select.value); }
    });
  });
})();
