/**
 * @packageDocumentation
 * connector-kafka: the connector code lands with its own issue; this entry point is its public API.
 */
export {}
