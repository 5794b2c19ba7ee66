# The dense baseline of any task: lottery.py with one round and nothing pruned, i.e. a plain
# training run through the LotteryRunner (same schedule, checkpoints and metrics; outputs
# under round_0/ plus lottery_summary.json). The zoo's dense configs use it and are the
# bases of their tickets, which set `rounds`, `keep_ratio` and the task's rewind point
# (lottery_det.py, lottery_pose.py, lottery_voc.py).
_base_ = ['./lottery.py']
lottery = dict(rounds=1, keep_ratio=1.0)
