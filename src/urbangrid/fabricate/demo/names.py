"""Deterministic Chinese personal and place names for the demo city."""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉鹏飞宇浩然晓东海波春梅雪松林峰云龙欣怡思远佳琪子涵"
ROADS_EW = ["长江路", "黄山路", "淮河路", "庐江路", "望江路", "宿州路", "寿春路"]
ROADS_NS = ["金寨路", "徽州大道", "马鞍山路", "芜湖路", "包河大道", "东流路", "屯溪路", "巢湖路", "花园街", "安庆路"]
COMMUNITIES = (
    "杏花 三里庵 稻香 琥珀 安居苑 清溪 西园 双岗 海棠 亳州 逍遥津 拱辰 和平 明光 胜利 铜陵 七里站 磨店 "
    "包公 芜湖 望湖 义兴 滨湖 烟墩 常青 荷叶地 南七 桂花 四里河 蜀山 井岗 笔架山 五里墩 稻花 南岗 西山 "
    "龙岗 葛大店 瑶海 红光 长淮 方庙 大兴 车站 新安 胜利路 城东 站北 二里街 七里塘 丰乐 宁国 安庆"
).split()


def person_name(rng):
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given
