"""Endpoint methods, one module per resource group."""
