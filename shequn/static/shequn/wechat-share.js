// Share card inside WeChat's browser: wx.config with the server's signature, then the card's
// title, description and image for "send to chat" and "share to Moments". No reward for sharing.
// One wx.config per page: it also enables the subscribe button's open tag.
(function () {
  var data = document.getElementById("wechat-share");
  if (!data || typeof wx === "undefined") return;
  var payload = JSON.parse(data.textContent);
  var config = payload.config;
  var share = payload.share;
  wx.config({
    debug: false,
    appId: config.appId,
    timestamp: config.timestamp,
    nonceStr: config.nonceStr,
    signature: config.signature,
    jsApiList: ["updateAppMessageShareData", "updateTimelineShareData"],
    openTagList: ["wx-open-subscribe"] // the subscribe button (wechat-subscribe.js), when the page has one
  });
  wx.ready(function () {
    wx.updateAppMessageShareData({ title: share.title, desc: share.desc, link: share.link, imgUrl: share.imgUrl });
    wx.updateTimelineShareData({ title: share.title, link: share.link, imgUrl: share.imgUrl });
  });
})();
