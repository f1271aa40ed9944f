"""`python -m leadhub.simulator`: the simulator without LeadHub's command group."""

from leadhub.simulator.cli import simulate

simulate(prog_name="python -m leadhub.simulator")
