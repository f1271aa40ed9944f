"""A local Meta for LeadHub: the Lead Ads Graph API and `leadgen` webhooks, with faults."""

from leadhub.simulator.faults import Fault, Faults
from leadhub.simulator.questions import LOCALES, Oddity
from leadhub.simulator.server import create_app
from leadhub.simulator.webhooks import (
    Delivery,
    LeadgenChange,
    SenderStats,
    WebhookSender,
    build_payload,
    handshake,
    sign,
    sign_sha1,
)
from leadhub.simulator.world import Ad, Lead, LeadForm, Page, Token, World, graph_time

__all__ = [
    "LOCALES",
    "Ad",
    "Delivery",
    "Fault",
    "Faults",
    "Lead",
    "LeadForm",
    "LeadgenChange",
    "Oddity",
    "Page",
    "SenderStats",
    "Token",
    "WebhookSender",
    "World",
    "build_payload",
    "create_app",
    "graph_time",
    "handshake",
    "sign",
    "sign_sha1",
]
