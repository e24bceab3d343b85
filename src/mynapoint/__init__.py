"""Mynapoint: an open implementation of Japan's マイナポイント program platform."""

__version__ = "0.1.0"
