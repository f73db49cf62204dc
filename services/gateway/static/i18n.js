/* Heartline pages: the words on screen, Chinese first, English on request.
 *
 * Static labels carry data-i18n="key" (text), data-i18n-title / data-i18n-placeholder /
 * data-i18n-aria (attributes). Dynamic text calls HL.t(key, vars). The choice of
 * language is kept in localStorage ("heartline.lang"); pages re-render their
 * dynamic labels through HL.i18n.onChange.
 */
(function () {
  "use strict";
  var HL = (window.HL = window.HL || {});

  var STORAGE_KEY = "heartline.lang";

  var DICT = {
    zh: {
      "app.name": "Heartline",
      "app.agent": "坐席助手",
      "app.wall": "服务情绪墙",
      "lang.toggle": "EN",
      "lang.toggle.title": "Switch to English",
      "signin.title.agent": "坐席登录",
      "signin.title.supervisor": "班长 / 质检登录",
      "signin.pick.agent": "选择演示坐席",
      "signin.pick.supervisor": "选择演示班长",
      "signin.loading": "正在读取演示账号…",
      "signin.none": "演示账号仅在本地模式提供,请粘贴令牌登录。",
      "signin.or": "或粘贴令牌",
      "signin.token.placeholder": "粘贴 JWT 令牌",
      "signin.submit": "登录",
      "signin.failed": "登录失败,请稍后再试。",
      "signin.expired": "登录已失效,请重新登录。",
      "signin.forbidden": "这个身份不能使用本页面,请换一个账号。",
      "signin.empty": "请先粘贴令牌。",
      "signout": "退出",
      "conn.connecting": "正在连接…",
      "conn.open": "已连接",
      "conn.retry": "连接中断,{s} 秒后重试",
      "conn.retrying": "正在重新连接…",
      "conn.offline": "网络已断开,恢复后自动重连",
      "conn.origin": "来源不被允许,稍后重试",
      "conn.slow": "网络较慢,正在恢复",
      "speaker.customer": "客户",
      "speaker.agent": "坐席",
      "emotion.anger": "愤怒",
      "emotion.anxiety": "焦虑",
      "emotion.confusion": "困惑",
      "emotion.sadness": "难过",
      "emotion.satisfaction": "满意",
      "emotion.neutral": "平静",
      "segment.senior": "老年客户",
      "segment.vip": "VIP 客户",
      "segment.new": "新客户",
      "segment.minor": "未成年客户",
      "segment.disabled": "特殊关怀",
      "call.none": "暂无通话",
      "call.none.hint": "来电接通后,实时转写和服务提示会出现在这里。",
      "call.hold": "保持中",
      "call.ended": "通话已结束",
      "call.customer.unknown": "客户",
      "call.duration": "通话时长",
      "call.emotion": "客户情绪",
      "call.sentiment": "情绪走势",
      "transcript.title": "实时转写",
      "transcript.empty": "等待通话内容…",
      "transcript.latest": "回到最新",
      "transcript.latest.n": "回到最新 ({n})",
      "transcript.partial": "识别中",
      "nudges.title": "服务提示",
      "nudges.empty": "暂无提示。保持倾听,适时回应。",
      "nudge.high": "重要",
      "nudge.knowledge": "知识库",
      "nudge.source": "来源",
      "nudge.accept": "用了",
      "nudge.dismiss": "忽略",
      "nudge.accepted": "已使用",
      "nudge.copied": "话术已复制",
      "nudge.copy.manual": "无法自动复制,已选中话术,请按 Ctrl+C",
      "nudge.reason": "依据",
      "wall.stat.live": "在线通话",
      "wall.stat.risk": "需关注",
      "wall.stat.npm": "提示 / 分钟",
      "wall.stat.accept": "提示采纳率",
      "wall.calls": "实时通话",
      "wall.calls.empty": "当前没有进行中的通话。",
      "wall.alerts": "升级提醒",
      "wall.alerts.empty": "暂无升级提醒。",
      "wall.escalated": "升级",
      "wall.nudges": "提示 {n}",
      "wall.agent": "坐席",
      "wall.risk": "风险",
      "listen.title": "旁听",
      "listen.close": "关闭",
      "listen.nudges": "给坐席的提示",
      "listen.nudges.empty": "暂无提示。",
      "whisper.label": "悄悄提醒坐席(只有坐席能看到)",
      "whisper.placeholder": "例如:先向客户道歉,再说明到账时间",
      "whisper.send": "发送",
      "whisper.sending": "发送中…",
      "whisper.sent": "已发送给坐席",
      "whisper.failed": "未发送:{error}",
      "whisper.ack": "收到",
      "time.ago.s": "{n} 秒前",
      "time.ago.m": "{n} 分钟前",
    },
    en: {
      "app.name": "Heartline",
      "app.agent": "Agent assist",
      "app.wall": "Service wall",
      "lang.toggle": "中文",
      "lang.toggle.title": "切换到中文",
      "signin.title.agent": "Agent sign-in",
      "signin.title.supervisor": "Supervisor sign-in",
      "signin.pick.agent": "Pick a demo agent",
      "signin.pick.supervisor": "Pick a demo supervisor",
      "signin.loading": "Loading demo accounts…",
      "signin.none": "Demo accounts exist in local mode only. Paste a token to sign in.",
      "signin.or": "or paste a token",
      "signin.token.placeholder": "Paste a JWT",
      "signin.submit": "Sign in",
      "signin.failed": "Sign-in failed. Please try again.",
      "signin.expired": "Your sign-in has expired. Please sign in again.",
      "signin.forbidden": "This account cannot use this page. Please pick another.",
      "signin.empty": "Paste a token first.",
      "signout": "Sign out",
      "conn.connecting": "Connecting…",
      "conn.open": "Connected",
      "conn.retry": "Connection lost, retrying in {s}s",
      "conn.retrying": "Reconnecting…",
      "conn.offline": "Offline; will reconnect when the network is back",
      "conn.origin": "Origin not allowed; retrying later",
      "conn.slow": "Slow network, recovering",
      "speaker.customer": "Customer",
      "speaker.agent": "Agent",
      "emotion.anger": "Angry",
      "emotion.anxiety": "Anxious",
      "emotion.confusion": "Confused",
      "emotion.sadness": "Sad",
      "emotion.satisfaction": "Satisfied",
      "emotion.neutral": "Calm",
      "segment.senior": "Senior",
      "segment.vip": "VIP",
      "segment.new": "New customer",
      "segment.minor": "Minor",
      "segment.disabled": "Special care",
      "call.none": "No live call",
      "call.none.hint": "When a call connects, its live transcript and service tips appear here.",
      "call.hold": "On hold",
      "call.ended": "Call ended",
      "call.customer.unknown": "Customer",
      "call.duration": "Duration",
      "call.emotion": "Customer emotion",
      "call.sentiment": "Sentiment",
      "transcript.title": "Live transcript",
      "transcript.empty": "Waiting for speech…",
      "transcript.latest": "Jump to latest",
      "transcript.latest.n": "Jump to latest ({n})",
      "transcript.partial": "listening",
      "nudges.title": "Service tips",
      "nudges.empty": "No tips right now. Keep listening and respond in time.",
      "nudge.high": "Important",
      "nudge.knowledge": "Knowledge base",
      "nudge.source": "Source",
      "nudge.accept": "Used it",
      "nudge.dismiss": "Dismiss",
      "nudge.accepted": "Used",
      "nudge.copied": "Wording copied",
      "nudge.copy.manual": "Could not copy; the wording is selected, press Ctrl+C",
      "nudge.reason": "Why",
      "wall.stat.live": "Live calls",
      "wall.stat.risk": "At risk",
      "wall.stat.npm": "Tips / min",
      "wall.stat.accept": "Tip acceptance",
      "wall.calls": "Live calls",
      "wall.calls.empty": "No calls in progress.",
      "wall.alerts": "Escalations",
      "wall.alerts.empty": "No escalations.",
      "wall.escalated": "Escalated",
      "wall.nudges": "{n} tips",
      "wall.agent": "Agent",
      "wall.risk": "Risk",
      "listen.title": "Listen in",
      "listen.close": "Close",
      "listen.nudges": "Tips sent to the agent",
      "listen.nudges.empty": "No tips yet.",
      "whisper.label": "Whisper to the agent (only the agent sees it)",
      "whisper.placeholder": "e.g. apologise first, then give the arrival time",
      "whisper.send": "Send",
      "whisper.sending": "Sending…",
      "whisper.sent": "Sent to the agent",
      "whisper.failed": "Not sent: {error}",
      "whisper.ack": "Got it",
      "time.ago.s": "{n}s ago",
      "time.ago.m": "{n} min ago",
    },
  };

  var lang = "zh";
  try {
    var saved = window.localStorage.getItem(STORAGE_KEY);
    if (saved === "en" || saved === "zh") lang = saved;
  } catch (e) {
    /* storage unavailable: stay Chinese */
  }
  var listeners = [];

  function t(key, vars) {
    var table = DICT[lang] || DICT.zh;
    var s = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : DICT.zh[key];
    if (s === undefined) return key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, function (_, name) {
        return vars[name] === undefined ? "" : String(vars[name]);
      });
    }
    return s;
  }

  function apply(root) {
    root = root || document;
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    var nodes = root.querySelectorAll("[data-i18n],[data-i18n-title],[data-i18n-placeholder],[data-i18n-aria]");
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (n.dataset.i18n) n.textContent = t(n.dataset.i18n);
      if (n.dataset.i18nTitle) n.title = t(n.dataset.i18nTitle);
      if (n.dataset.i18nPlaceholder) n.placeholder = t(n.dataset.i18nPlaceholder);
      if (n.dataset.i18nAria) n.setAttribute("aria-label", t(n.dataset.i18nAria));
    }
  }

  function set(next) {
    if (next !== "zh" && next !== "en") return;
    lang = next;
    try {
      window.localStorage.setItem(STORAGE_KEY, lang);
    } catch (e) {
      /* not remembered; still switched for this page */
    }
    apply(document);
    for (var i = 0; i < listeners.length; i++) listeners[i](lang);
  }

  HL.t = t;
  HL.i18n = {
    get lang() {
      return lang;
    },
    set: set,
    toggle: function () {
      set(lang === "zh" ? "en" : "zh");
    },
    apply: apply,
    onChange: function (fn) {
      listeners.push(fn);
    },
  };
})();
