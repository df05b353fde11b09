/**
 * @packageDocumentation
 * connector-mysql: the connector code lands with its own issue; this entry point is its public API.
 */
export {}
