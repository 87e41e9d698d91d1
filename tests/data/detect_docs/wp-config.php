<?php
/**
 * The base configuration for WordPress
 *
 * fernhill.io marketing site -- copied from the old host on 2024-02-19
 *
 * @package WordPress
 */

// ** Database settings - You can get this info from your web host ** //
define( 'DB_NAME', 'wp_fernhill' );
define( 'DB_USER', 'fernhill_wp' );
define( 'DB_PASSWORD', 'Gz4#rW9!kLp2vX' );
define( 'DB_HOST', 'localhost' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );

/**#@+
 * Authentication unique keys and salts.
 *
 * Change these to different unique phrases! You can generate these using
 * the {@link https://api.wordpress.org/secret-key/1.1/salt/ WordPress.org secret-key service}.
 */
define( 'AUTH_KEY',         'G_$):Nax?+)YPL3oN#R9%%%T<;Er8WmO4[R-B+b#9ZH]83bHn,0L2~2#y7&-D#^)' );
define( 'SECURE_AUTH_KEY',  'G|UIir(zj1PwhV;Qve]DXe?jFscbfYPDrh9wh%79D~YJH^/=fvNb>Lz}fWIZ?Juy' );
define( 'LOGGED_IN_KEY',    'T-Se8<NBK-Ta>:/I[dM0@g]x96:gS?<a|vl7gb[^bW35k{grb$bT7?F]N/xb1:yT' );
define( 'NONCE_KEY',        'n>@QM|kj}w{Vv0T<YwL,fip6[KwJ:$G@x|wGOJl8^CP#oU{cQ[Us;Ud8DVNX-,?9' );
define( 'AUTH_SALT',        'put your unique phrase here' );
define( 'SECURE_AUTH_SALT', 'put your unique phrase here' );
define( 'LOGGED_IN_SALT',   'put your unique phrase here' );
define( 'NONCE_SALT',       'put your unique phrase here' );
/**#@-*/

// SMTP relay (WP Mail SMTP plugin)
define( 'WPMS_ON', true );
define( 'WPMS_SMTP_HOST', 'smtp.office365.com' );
define( 'WPMS_SMTP_USER', 'web@fernhill.io' );
define( 'WPMS_SMTP_PASS', 'mail-Relay-2024!' );

$table_prefix = 'wp_';

define( 'WP_DEBUG', false );

if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

require_once ABSPATH . 'wp-settings.php';
