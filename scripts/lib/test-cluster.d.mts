// Types of scripts/lib/test-cluster.mjs for the TypeScript entry points (benchmarks, test fixtures).
export declare const TEST_CLUSTER_DEFAULTS: Readonly<Record<string, string>>;
export declare function testClusterEnv(env?: NodeJS.ProcessEnv, who?: string): { env: NodeJS.ProcessEnv; refusal: string | undefined };
export declare function useTestCluster(who: string): NodeJS.ProcessEnv;
