/**
 * `authenticated`: messaging between a fixed, known set of peers that find each other's addresses on
 * their own, wire-compatible with commonware-p2p 0.0.25.
 *
 * ## Example
 * ```ts
 * import { Config, Network, Recipients } from 'quorumnet/authenticated'
 * const { network, oracle } = Network.create(ctx, Config.recommended(signer, ns, listen, boot, 1 << 20))
 * ```
 */
export { Config, verifyConfig, type Bootstrapper, type BootstrapperPolicy, type NetworkMode, type PresetArgs } from './config.js'
export type { Metrics } from './metrics.js'
export { Network, type NetworkHandle } from './network.js'
export { Oracle, type BlockedPeer, type BlockOptions, type LookupPeer } from './oracle.js'
export { Recipients, type Channel, type Receiver, type Sender, type SendOptions, type SendOutcome } from './types.js'
export type { ChannelOptions } from './channels.js'
export type { Overflow } from './peer.js'
export { Quota } from '../utils/quota.js'
