// Relay global IDs are base64("Type:pk"); the REST endpoints take the integer pk.
export function restId(globalId: string): string {
  const [, pk] = atob(globalId).split(":");
  return pk;
}
