# shellcheck shell=bash source-path=SCRIPTDIR/..
# devstack plugin for Freezer in Go: freezer-api (+ freezer-manage),
# freezer-scheduler and freezer-agent, built from this checkout.
#
# devstack sources this file as `plugin.sh <mode> [<phase>]`; see
# devstack/README.rst for the local.conf lines.

if is_service_enabled freezer-api freezer-scheduler freezer; then
    if [[ "$1" == "source" || "$(type -t install_freezer)" != "function" ]]; then
        # shellcheck source=devstack/lib/freezer
        source "$FREEZER_DIR/devstack/lib/freezer"
    fi

    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Freezer"
        install_freezer

    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        if is_freezer_api_enabled; then
            echo_summary "Configuring Freezer API"
            configure_freezer_api
            echo_summary "Creating Keystone accounts for Freezer API"
            create_freezer_api_accounts
        fi
        if is_freezer_scheduler_enabled; then
            echo_summary "Configuring Freezer scheduler"
            configure_freezer_scheduler
        fi
        echo_summary "Configuring Freezer agent defaults"
        configure_freezer_agent

    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        if is_freezer_api_enabled; then
            echo_summary "Initializing Freezer API"
            init_freezer_api
            echo_summary "Starting Freezer API"
            start_freezer_api
        fi
        if is_freezer_scheduler_enabled; then
            echo_summary "Starting Freezer scheduler"
            start_freezer_scheduler
        fi
        echo_summary "Installing python-freezerclient"
        install_freezerclient
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_freezer_scheduler
        stop_freezer_api
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_freezer
    fi
fi
