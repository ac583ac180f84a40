"""MQTT transport: topic layout, the paho client wrapper, and a unit's inbox."""
