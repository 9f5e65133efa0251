// The "订阅通知" button: WeChat's wx-open-subscribe open tag shows its subscribe dialog, and its
// success event reports each template's status ({template id: '{"status":"accept"}'}); the page
// posts them to the consent API as the member's answer. The page's one wx.config comes from the
// share card when it has one, else from here.
(function () {
  var config = document.getElementById("wechat-subscribe-config");
  if (config && !document.getElementById("wechat-share") && typeof wx !== "undefined") {
    var signed = JSON.parse(config.textContent);
    wx.config({
      debug: false,
      appId: signed.appId,
      timestamp: signed.timestamp,
      nonceStr: signed.nonceStr,
      signature: signed.signature,
      jsApiList: ["updateAppMessageShareData"],
      openTagList: ["wx-open-subscribe"]
    });
  }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  document.querySelectorAll("wx-open-subscribe[data-report-url]").forEach(function (tag) {
    var line = tag.parentNode.querySelector("[data-subscribe-result]");
    tag.addEventListener("success", function (event) {
      var detail = event.detail || {};
      if (detail.errMsg !== "subscribe:ok") return;
      var details = JSON.parse(detail.subscribeDetails || "{}");
      var results = {};
      Object.keys(details).forEach(function (templateId) {
        results[templateId] = JSON.parse(details[templateId]).status;
      });
      fetch(tag.getAttribute("data-report-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({results: results})
      }).then(function (response) {
        return response.ok ? response.json() : {items: []};
      }).then(function (answer) {
        var accepted = answer.items.some(function (item) { return item.accepted && results[item.template_id] === "accept"; });
        line.textContent = line.getAttribute(accepted ? "data-accepted" : "data-declined");
        line.hidden = false;
      });
    });
  });
})();
