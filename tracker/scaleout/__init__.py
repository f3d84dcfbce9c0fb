"""Beyond one machine: BLE gateways publish raw packets, a pool of workers counts reps (docs/mqtt.md).

- :mod:`.wire`: the topics and payloads between gateways and workers;
- :mod:`.gateway`: a sensor's packets onto the broker, a buffer since the last checkpoint, the
  owner of each sensor (the gateway arbitrates claims);
- :mod:`.worker`: claims sensors announced on an MQTT 5 shared subscription, runs their
  pipelines and publishes their live facts over one connection.
"""
