"""Demo people for local runs: the agent picker and the simulator use these."""

DEMO_AGENTS = [
    {"id": f"a-{i:03d}", "name": name, "role": "agent"}
    for i, name in enumerate(
        ["李娜", "王强", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴婷", "徐鹏", "孙悦"], start=1
    )
]
DEMO_SUPERVISORS = [{"id": "s-001", "name": "值班主管 郑华", "role": "supervisor"}]
